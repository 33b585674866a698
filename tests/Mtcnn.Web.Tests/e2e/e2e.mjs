// End-to-end test of the demo page in a real browser (Debian's Chromium driven by playwright-core).
// Usage: node e2e.mjs BASE_URL IMAGE OUT_DIR
// Opens the page, uploads IMAGE, waits for #face-count to read 1, switches views, moves a slider, runs the webcam
// mode on Chromium's fake camera, and saves screenshots in OUT_DIR. Prints progress lines and, last, one JSON line
// with the results; exits with 1 (and the reason on stderr) when any step fails.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [baseUrl, imagePath, outDir] = process.argv.slice(2);
if (!baseUrl || !imagePath || !outDir) {
  console.error('usage: node e2e.mjs BASE_URL IMAGE OUT_DIR');
  process.exit(2);
}

mkdirSync(outDir, { recursive: true });
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const timeout = 30000;
const results = { screenshots: [] };
const problems = [];

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic',
    // A synthetic camera, and camera permission granted without a prompt, for the webcam mode.
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  ],
});

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      problems.push(`console error: ${m.text()}`);
    }
  });

  const faceCount = () => page.locator('#face-count').textContent();
  // Waits until a detection has finished and the count compares with `value` as `op` says ('=', '>' or '>=').
  const waitForCount = async (op, value, what) => {
    try {
      await page.waitForFunction(
        ([o, v]) => {
          const text = document.getElementById('face-count').textContent;
          const n = Number(text);
          return document.body.dataset.state === 'ready' && text.trim() !== '' && (o === '=' ? n === v : o === '>' ? n > v : n >= v);
        },
        [op, value],
        { timeout },
      );
    } catch {
      throw new Error(`#face-count never showed ${what}; it shows '${await faceCount()}', page state '${await page.evaluate(() => document.body.dataset.state)}', message '${await page.locator('#message').textContent()}'`);
    }

    return Number(await faceCount());
  };
  const shot = async (name) => {
    const path = join(outDir, name);
    await page.screenshot({ path, fullPage: true });
    results.screenshots.push(path);
    console.log(`screenshot ${path}`);
  };

  await page.goto(baseUrl, { waitUntil: 'load' });
  await page.waitForSelector('#server-status.ok');
  console.log(`page loaded: ${await page.title()}`);

  // Upload the fixture: the O-Net view shows one face.
  await page.setInputFiles('#file-input', imagePath);
  results.faces = await waitForCount('=', 1, '1');
  results.canvas = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  results.list = await page.locator('#face-list li').count();
  console.log(`O-Net view: ${results.faces} face(s) on a ${results.canvas.join('x')} canvas`);
  await shot('e2e-onet.png');

  // P-Net view: many candidates; back to O-Net: one face again.
  await page.click('button[data-stage="pnet"]');
  results.pnetCandidates = await waitForCount('>', 1, 'more than 1 P-Net candidate');
  console.log(`P-Net view: ${results.pnetCandidates} candidates`);
  await shot('e2e-pnet.png');
  await page.click('button[data-stage="rnet"]');
  results.rnetCandidates = await waitForCount('>=', 1, 'R-Net candidates');
  await page.click('button[data-stage="onet"]');
  await waitForCount('=', 1, '1 after returning to O-Net');

  // A minimum face size above the face's size hides it (the debounced re-detection); Reset brings it back.
  await page.locator('#min-face-size').fill('300');
  results.facesAtMinFace300 = await waitForCount('=', 0, '0 with min face size 300');
  await page.click('#reset-button');
  await waitForCount('=', 1, '1 after Reset');
  console.log('sliders re-run detection');

  // Webcam mode on the fake camera: frames go to the server in a loop and results come back.
  await page.click('#webcam-button');
  await page.waitForFunction(() => Number(document.body.dataset.frames || 0) >= 3, null, { timeout });
  results.webcamFrames = Number(await page.evaluate(() => document.body.dataset.frames));
  console.log(`webcam: ${results.webcamFrames} frames processed (${await page.locator('#fact-fps').textContent()})`);
  await shot('e2e-webcam.png');
  await page.click('#webcam-button');
  await waitForCount('=', 1, '1 after stopping the webcam');

  if (problems.length > 0) {
    throw new Error(problems.join('; '));
  }

  results.ok = true;
  console.log(JSON.stringify(results));
} catch (e) {
  console.error(`e2e failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
