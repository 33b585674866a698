"""Times facenet-pytorch's MTCNN.detect for the side-by-side benchmark (benchmarks/Mtcnn.FacenetReplay).

Started by the benchmark as `python3 facenet_pytorch_worker.py <facenet-pytorch checkout>`; it reads one JSON command
per line on stdin and answers each with one JSON line on stdout:

  {"op": "info"}                                   -> versions, build configuration, thread settings
  {"op": "time", "path": P, "width": W, "height": H, "min_face": M, "threads": T, "warmup": K, "calls": N}
      P holds W x H x 3 bytes of RGB; the image is decoded once, then MTCNN.detect runs K times untimed and N times
      timed (time.perf_counter around each call)  -> {"ms": [...], "boxes": [[x1, y1, x2, y2, p], ...],
                                                       "points": [[x, y] x 5, ...]}

The checkout is used as it is (its models/mtcnn.py and the weights in its data/ folder); nothing of it is copied into
this project. Thresholds 0.6/0.7/0.7 and factor 0.709 are facenet-pytorch's defaults, given explicitly.
"""

import importlib.util
import json
import os
import sys
import time
import types


def load_facenet(checkout):
    """Imports <checkout>/models/mtcnn.py as a package module without running the checkout's __init__ (which
    also imports the recognition model and its download helpers)."""
    package = types.ModuleType("facenet_checkout")
    package.__path__ = [checkout]
    sys.modules["facenet_checkout"] = package
    models = types.ModuleType("facenet_checkout.models")
    models.__path__ = [os.path.join(checkout, "models")]
    sys.modules["facenet_checkout.models"] = models
    spec = importlib.util.spec_from_file_location(
        "facenet_checkout.models.mtcnn", os.path.join(checkout, "models", "mtcnn.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["facenet_checkout.models.mtcnn"] = module
    spec.loader.exec_module(module)
    return module.MTCNN


def main():
    if len(sys.argv) != 2:
        print("usage: facenet_pytorch_worker.py <facenet-pytorch checkout>", file=sys.stderr)
        return 2

    checkout = os.path.abspath(sys.argv[1])
    if not os.path.isfile(os.path.join(checkout, "models", "mtcnn.py")):
        print(f"{checkout}: not a facenet-pytorch checkout (no models/mtcnn.py)", file=sys.stderr)
        return 2

    import numpy as np
    import torch
    import torchvision

    mtcnn_class = load_facenet(checkout)
    detectors = {}
    images = {}

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            command = json.loads(line)
            op = command.get("op")
            if op == "info":
                reply({
                    "torch": torch.__version__,
                    "torchvision": torchvision.__version__,
                    "mkldnn": bool(torch.backends.mkldnn.is_available()),
                    "capability": torch.backends.cpu.get_cpu_capability()
                    if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability") else None,
                    "config": torch.__config__.show(),
                })
            elif op == "time":
                key = (command["path"], command["width"], command["height"])
                image = images.get(key)
                if image is None:
                    with open(command["path"], "rb") as f:
                        raw = f.read()
                    expected = command["width"] * command["height"] * 3
                    if len(raw) != expected:
                        raise ValueError(f"{command['path']}: {len(raw)} bytes, expected {expected}")
                    image = np.frombuffer(raw, dtype=np.uint8).reshape(command["height"], command["width"], 3).copy()
                    images.clear()
                    images[key] = image

                torch.set_num_threads(int(command["threads"]))
                min_face = int(command["min_face"])
                detector = detectors.get(min_face)
                if detector is None:
                    detector = mtcnn_class(min_face_size=min_face, thresholds=[0.6, 0.7, 0.7], factor=0.709,
                                           keep_all=True, device="cpu")
                    detectors[min_face] = detector

                boxes = points = None
                with torch.no_grad():
                    for _ in range(int(command["warmup"])):
                        boxes, probs, points = detector.detect(image, landmarks=True)
                    ms = []
                    for _ in range(int(command["calls"])):
                        start = time.perf_counter()
                        boxes, probs, points = detector.detect(image, landmarks=True)
                        ms.append((time.perf_counter() - start) * 1000.0)

                found = []
                marks = []
                if boxes is not None:
                    for box, prob, point in zip(boxes, probs, points):
                        found.append([float(v) for v in box] + [float(prob)])
                        marks.append([[float(p[0]), float(p[1])] for p in point])
                reply({"ms": ms, "boxes": found, "points": marks})
            else:
                reply({"error": f"unknown op {op!r}"})
        except Exception as e:  # one bad command is reported, the worker stays up
            reply({"error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
