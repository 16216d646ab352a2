"""Writes src/image/__fixtures__/pillow-resize.json: Pillow's Image.resize output (reducing_gap=None, as
transformers calls it) for a small deterministic RGB image, every PIL filter, down- and up-scaling.
Run with a Python that has Pillow (Debian: apt-get install python3-pil; /usr/bin/python3 scripts/gen-pillow-resize-fixture.py)."""
import base64, json, os, PIL
from PIL import Image

W, H = 37, 23
src = bytes(((x * 7 + y * 13) ^ (x * y)) % 256 if c == 0 else ((x * 29) % 256 if c == 1 else (y * 11 + (x // 3) * 40) % 256)
            for y in range(H) for x in range(W) for c in range(3))
img = Image.frombytes('RGB', (W, H), src)
cases = []
for code in [0, 1, 2, 3, 4, 5]:
    for (w, h) in [(15, 9), (5, 5), (36, 22), (44, 23), (37, 30)]:
        out = img.resize((w, h), resample=code, reducing_gap=None)
        cases.append({'resample': code, 'width': w, 'height': h, 'rgb': base64.b64encode(out.tobytes()).decode()})
path = os.path.join(os.path.dirname(__file__), '..', 'src', 'image', '__fixtures__', 'pillow-resize.json')
json.dump({'pillow': PIL.__version__, 'width': W, 'height': H, 'rgb': base64.b64encode(src).decode(), 'cases': cases}, open(path, 'w'))
print('wrote', path, len(cases), 'cases, Pillow', PIL.__version__)
