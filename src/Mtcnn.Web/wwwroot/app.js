// Mtcnn.NET demo page: sends an image (or webcam frames) to POST /api/detect and draws the faces on a canvas.
// Plain browser JavaScript, no build step, no dependencies.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const video = $('video');
  const fileInput = $('file-input');
  const stageEl = $('stage');
  const sliders = {
    pnet: $('pnet-threshold'),
    rnet: $('rnet-threshold'),
    onet: $('onet-threshold'),
    minFace: $('min-face-size'),
  };
  const DEFAULTS = { pnet: '0.6', rnet: '0.7', onet: '0.7', minFace: '20' };
  const BOX_COLOR = '#00e676';
  // Left eye, right eye, nose, left and right mouth corner: the colours of the server's annotated images.
  const LANDMARK_COLORS = ['#2196f3', '#f44336', '#ffeb3b', '#9c27b0', '#ff9800'];
  const MAX_LISTED = 100;

  const state = {
    stage: 'onet',
    file: null,        // the still image (File or Blob)
    name: 'upload',
    bitmap: null,      // the still image decoded for drawing (null when the browser cannot decode it)
    result: null,      // the last JSON result
    webcam: null,      // { stream, running, frames, frame, grab } while the camera runs
    controller: null,  // aborts a superseded still-image request
    seq: 0,            // only the newest still-image request may update the page
    maxUploadBytes: 0,
  };

  // ---- Server status ------------------------------------------------------------------------------------------

  async function checkHealth() {
    const pill = $('server-status');
    try {
      const response = await fetch('/api/health', { cache: 'no-store' });
      const health = await response.json();
      state.maxUploadBytes = health.limits?.maxUploadBytes ?? 0;
      pill.textContent = `Ready · ${health.workers} worker${health.workers === 1 ? '' : 's'} · v${health.version}`;
      pill.className = 'pill ok';
    } catch {
      pill.textContent = 'Server unreachable';
      pill.className = 'pill down';
    }
  }

  // ---- Requests -----------------------------------------------------------------------------------------------

  function query() {
    const p = new URLSearchParams();
    p.set('stage', state.stage);
    p.set('thresholds', [sliders.pnet.value, sliders.rnet.value, sliders.onet.value].join(','));
    p.set('minFaceSize', sliders.minFace.value);
    return p.toString();
  }

  async function readJson(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  function errorText(response, body) {
    return body && typeof body.error === 'string' ? body.error : `The server answered ${response.status} ${response.statusText}.`;
  }

  async function detectStill() {
    if (!state.file || state.webcam) {
      return;
    }

    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    const seq = ++state.seq;
    setBusy(true);
    const form = new FormData();
    form.append('image', state.file, state.name);
    const started = performance.now();
    try {
      const response = await fetch(`/api/detect?${query()}`, { method: 'POST', body: form, signal: controller.signal });
      const body = await readJson(response);
      if (seq !== state.seq) {
        return;
      }

      if (!response.ok) {
        throw new Error(errorText(response, body));
      }

      showResult(body, response, performance.now() - started);
    } catch (e) {
      if (e.name !== 'AbortError' && seq === state.seq) {
        showError(e.message);
      }
    } finally {
      if (seq === state.seq) {
        setBusy(false);
      }
    }
  }

  async function downloadAnnotated() {
    if (!state.file || state.webcam) {
      return;
    }

    const form = new FormData();
    form.append('image', state.file, state.name);
    try {
      const response = await fetch(`/api/annotate?${query()}`, { method: 'POST', body: form });
      if (!response.ok) {
        throw new Error(errorText(response, await readJson(response)));
      }

      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `${state.name.replace(/\.[^.]+$/, '') || 'image'}-${state.stage}.png`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      showError(e.message);
    }
  }

  // ---- Still images -------------------------------------------------------------------------------------------

  async function openFile(file) {
    if (!file) {
      return;
    }

    stopWebcam(false);
    if (state.maxUploadBytes && file.size > state.maxUploadBytes) {
      showError(`${file.name} is ${formatBytes(file.size)}; the server accepts up to ${formatBytes(state.maxUploadBytes)}.`);
      return;
    }

    let bitmap = null;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // The server decides what it can read; its error message is shown if it cannot either.
    }

    state.bitmap?.close();
    state.bitmap = bitmap;
    state.file = file;
    state.name = file.name || 'upload';
    state.result = null;
    $('download-button').disabled = false;
    draw();
    await detectStill();
  }

  // ---- Webcam -------------------------------------------------------------------------------------------------

  async function startWebcam() {
    if (!navigator.mediaDevices?.getUserMedia) {
      showError('This browser gives no camera access here (it needs https or localhost).');
      return;
    }

    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    } catch (e) {
      showError(`The camera is not available: ${e.message || e.name}.`);
      return;
    }

    state.controller?.abort();
    state.seq++;
    video.srcObject = stream;
    await video.play().catch(() => {});
    const cam = { stream, running: true, frames: 0, frame: null, grab: document.createElement('canvas') };
    state.webcam = cam;
    state.result = null;
    const button = $('webcam-button');
    button.textContent = 'Stop webcam';
    button.setAttribute('aria-pressed', 'true');
    $('download-button').disabled = true;
    $('fact-fps-row').hidden = false;
    hideMessage();
    setBusy(false);
    webcamLoop(cam);
  }

  // One request at a time: grab a frame, send it as JPEG, draw that same frame with its result, repeat.
  async function webcamLoop(cam) {
    const finished = [];
    while (cam.running) {
      if (video.readyState < 2 || !video.videoWidth) {
        await sleep(30);
        continue;
      }

      const w = video.videoWidth;
      const h = video.videoHeight;
      if (cam.grab.width !== w || cam.grab.height !== h) {
        cam.grab.width = w;
        cam.grab.height = h;
      }

      cam.grab.getContext('2d').drawImage(video, 0, 0, w, h);
      const frame = await createImageBitmap(cam.grab);
      const blob = await new Promise((resolve) => cam.grab.toBlob(resolve, 'image/jpeg', 0.85));
      const started = performance.now();
      try {
        const response = await fetch(`/api/detect?${query()}`, { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: blob });
        const body = await readJson(response);
        if (!cam.running) {
          frame.close();
          break;
        }

        if (!response.ok) {
          throw new Error(errorText(response, body));
        }

        cam.frame?.close();
        cam.frame = frame;
        cam.frames++;
        showResult(body, response, performance.now() - started);
        finished.push(performance.now());
        if (finished.length > 10) {
          finished.shift();
        }

        const fps = finished.length > 1 ? ((finished.length - 1) * 1000) / (finished.at(-1) - finished[0]) : 0;
        $('fact-fps').textContent = `${fps.toFixed(1)} fps · ${cam.frames} frames`;
        document.body.dataset.frames = String(cam.frames);
      } catch (e) {
        frame.close();
        if (!cam.running) {
          break;
        }

        showError(e.message);
        await sleep(1000);
      }
    }
  }

  function stopWebcam(redetect = true) {
    const cam = state.webcam;
    if (!cam) {
      return;
    }

    cam.running = false;
    cam.stream.getTracks().forEach((t) => t.stop());
    cam.frame?.close();
    video.srcObject = null;
    state.webcam = null;
    state.result = null;
    const button = $('webcam-button');
    button.textContent = 'Start webcam';
    button.setAttribute('aria-pressed', 'false');
    $('download-button').disabled = !state.file;
    $('fact-fps-row').hidden = true;
    draw();
    if (redetect) {
      if (state.file) {
        detectStill();
      } else {
        resetResult();
      }
    }
  }

  // ---- Results and drawing ------------------------------------------------------------------------------------

  function showResult(result, response, roundTripMs) {
    state.result = result;
    hideMessage();
    const faces = result.faces;
    const candidates = state.stage !== 'onet';
    $('face-count').textContent = String(faces.length);
    $('face-count-label').textContent = candidates
      ? (faces.length === 1 ? `${state.stage === 'pnet' ? 'P' : 'R'}-Net candidate` : `${state.stage === 'pnet' ? 'P' : 'R'}-Net candidates`)
      : (faces.length === 1 ? 'face' : 'faces');
    $('fact-size').textContent = `${result.width} × ${result.height}`;
    const timing = /detect;dur=([\d.]+)/.exec(response.headers.get('Server-Timing') || '');
    $('fact-detect').textContent = timing ? `${Number(timing[1]).toFixed(0)} ms` : '–';
    $('fact-roundtrip').textContent = `${roundTripMs.toFixed(0)} ms`;
    renderList(faces, candidates);
    document.body.dataset.state = 'ready';
    draw();
  }

  function renderList(faces, candidates) {
    const list = $('face-list');
    list.replaceChildren();
    if (faces.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = candidates ? 'No candidates at these settings.' : 'No faces at these settings.';
      list.append(li);
      return;
    }

    faces.slice(0, MAX_LISTED).forEach((face, i) => {
      const li = document.createElement('li');
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = `#${i + 1}  ${face.score.toFixed(3)}`;
      const box = document.createElement('span');
      box.className = 'box';
      const [x1, y1, x2, y2] = face.box;
      box.textContent = `${Math.round(x2 - x1)}×${Math.round(y2 - y1)} at ${Math.round(x1)}, ${Math.round(y1)}`;
      li.append(score, box);
      list.append(li);
    });
    if (faces.length > MAX_LISTED) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = `… and ${faces.length - MAX_LISTED} more`;
      list.append(li);
    }
  }

  function draw() {
    const source = state.webcam ? state.webcam.frame : state.bitmap;
    const result = state.result;
    const width = source?.width ?? result?.width ?? 0;
    const height = source?.height ?? result?.height ?? 0;
    const hasPicture = width > 0 && height > 0 && (source || result);
    canvas.hidden = !hasPicture;
    $('placeholder').hidden = Boolean(hasPicture) || Boolean(state.webcam);
    if (!hasPicture) {
      return;
    }

    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }

    if (source) {
      ctx.drawImage(source, 0, 0);
    } else {
      ctx.fillStyle = '#808890';
      ctx.fillRect(0, 0, width, height);
    }

    if (result) {
      drawFaces(result.faces, width, height);
    }
  }

  function drawFaces(faces, width, height) {
    const unit = Math.max(1, Math.min(width, height) / 320);
    const showScores = $('show-scores').checked;
    const showLandmarks = $('show-landmarks').checked;
    const many = faces.length > 40;
    ctx.lineJoin = 'round';
    ctx.textBaseline = 'top';
    ctx.font = `600 ${Math.round(11 * unit)}px system-ui, "DejaVu Sans", sans-serif`;
    // Draw the weakest first so that the best boxes end on top.
    for (let i = faces.length - 1; i >= 0; i--) {
      const face = faces[i];
      const [x1, y1, x2, y2] = face.box;
      ctx.globalAlpha = many ? 0.35 + 0.65 * face.score : 1;
      ctx.lineWidth = (many ? 1 : 2) * unit;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.45)';
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.lineWidth = (many ? 0.75 : 1.5) * unit;
      ctx.strokeStyle = BOX_COLOR;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.globalAlpha = 1;

      if (showScores && !many) {
        const label = face.score.toFixed(3);
        const pad = 3 * unit;
        const textWidth = ctx.measureText(label).width;
        const boxHeight = 11 * unit + 2 * pad;
        const top = y1 - boxHeight >= 0 ? y1 - boxHeight : y1;
        ctx.fillStyle = BOX_COLOR;
        ctx.fillRect(x1 - ctx.lineWidth / 2, top, textWidth + 2 * pad, boxHeight);
        ctx.fillStyle = '#000';
        ctx.fillText(label, x1 - ctx.lineWidth / 2 + pad, top + pad);
      }

      if (showLandmarks && face.landmarks) {
        face.landmarks.forEach(([x, y], k) => {
          ctx.beginPath();
          ctx.arc(x, y, 2.6 * unit, 0, Math.PI * 2);
          ctx.fillStyle = LANDMARK_COLORS[k];
          ctx.fill();
          ctx.lineWidth = unit;
          ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
          ctx.stroke();
        });
      }
    }
  }

  // ---- Page state ---------------------------------------------------------------------------------------------

  function setBusy(busy) {
    $('busy').hidden = !busy || !state.bitmap;
    if (busy) {
      document.body.dataset.state = 'busy';
    }
  }

  function showError(text) {
    const message = $('message');
    message.textContent = text;
    message.hidden = false;
    document.body.dataset.state = 'error';
    if (!state.webcam) {
      state.result = null;
      clearFacts();
      draw();
    }
  }

  function hideMessage() {
    $('message').hidden = true;
  }

  function clearFacts() {
    $('face-count').textContent = '–';
    $('face-count-label').textContent = 'faces';
    $('face-list').replaceChildren();
    for (const id of ['fact-size', 'fact-detect', 'fact-roundtrip']) {
      $(id).textContent = '–';
    }
  }

  function resetResult() {
    clearFacts();
    document.body.dataset.state = 'idle';
  }

  function formatBytes(n) {
    return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function debounce(fn, ms) {
    let timer = 0;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // ---- Wiring -------------------------------------------------------------------------------------------------

  const redetect = debounce(detectStill, 200);

  for (const [key, input] of Object.entries(sliders)) {
    const output = $(`${input.id}-value`);
    const show = () => {
      output.textContent = key === 'minFace' ? input.value : Number(input.value).toFixed(2);
    };
    input.addEventListener('input', () => {
      show();
      redetect();
    });
    show();
  }

  document.querySelectorAll('.segmented button').forEach((button) => {
    button.addEventListener('click', () => {
      state.stage = button.dataset.stage;
      document.querySelectorAll('.segmented button').forEach((b) => b.setAttribute('aria-checked', String(b === button)));
      detectStill();
    });
  });

  $('reset-button').addEventListener('click', () => {
    for (const [key, input] of Object.entries(sliders)) {
      input.value = DEFAULTS[key];
      input.dispatchEvent(new Event('input'));
    }
  });

  $('show-scores').addEventListener('change', draw);
  $('show-landmarks').addEventListener('change', draw);
  $('download-button').addEventListener('click', downloadAnnotated);
  $('webcam-button').addEventListener('click', () => (state.webcam ? stopWebcam() : startWebcam()));

  fileInput.addEventListener('change', () => {
    openFile(fileInput.files[0]);
    fileInput.value = '';
  });

  // Dropping a file anywhere must not navigate away from the page.
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => e.preventDefault());
  stageEl.addEventListener('dragenter', () => stageEl.classList.add('dragging'));
  stageEl.addEventListener('dragover', (e) => {
    e.preventDefault();
    stageEl.classList.add('dragging');
  });
  stageEl.addEventListener('dragleave', (e) => {
    if (!stageEl.contains(e.relatedTarget)) {
      stageEl.classList.remove('dragging');
    }
  });
  stageEl.addEventListener('drop', (e) => {
    e.preventDefault();
    stageEl.classList.remove('dragging');
    openFile(e.dataTransfer?.files?.[0]);
  });
  stageEl.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      fileInput.click();
    }
  });
  document.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) {
      openFile(file);
    }
  });

  checkHealth();
})();
