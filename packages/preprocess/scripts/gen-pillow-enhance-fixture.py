"""Writes src/augment/__fixtures__/pillow-enhance.json: Pillow ImageEnhance Brightness / Contrast / Color
(what torchvision's ColorJitter calls on the PIL images open_clip trains on) for a small RGB image.
Run with a Python that has Pillow (Debian: apt-get install python3-pil)."""
import base64, json, os, PIL
from PIL import Image, ImageEnhance

W, H = 16, 12
src = bytes(((x * 17 + y * 5) % 256 if c == 0 else ((x * y * 3) % 256 if c == 1 else (255 - x * 9 - y * 4) % 256))
            for y in range(H) for x in range(W) for c in range(3))
img = Image.frombytes('RGB', (W, H), src)
cases = []
for op, cls in [('brightness', ImageEnhance.Brightness), ('contrast', ImageEnhance.Contrast), ('saturation', ImageEnhance.Color)]:
    for f in [0.0, 0.37, 0.8, 1.0, 1.25, 1.9]:
        cases.append({'op': op, 'factor': f, 'rgb': base64.b64encode(cls(img).enhance(f).tobytes()).decode()})
for f in [-0.5, -0.37, -0.1, 0.05, 0.21, 0.5]:
    # torchvision F_pil.adjust_hue: 8-bit hue channel shifted by int8(f * 255) with wrap-around.
    shift = int(f * 255) % 256
    h, s_, v = img.convert('HSV').split()
    h = h.point(lambda x: (x + shift) % 256)
    cases.append({'op': 'hue', 'factor': f, 'rgb': base64.b64encode(Image.merge('HSV', (h, s_, v)).convert('RGB').tobytes()).decode()})
cases.append({'op': 'grayscale', 'factor': 0, 'rgb': base64.b64encode(img.convert('L').convert('RGB').tobytes()).decode()})
d = os.path.join(os.path.dirname(__file__), '..', 'src', 'augment', '__fixtures__'); os.makedirs(d, exist_ok=True)
json.dump({'pillow': PIL.__version__, 'width': W, 'height': H, 'rgb': base64.b64encode(src).decode(), 'cases': cases}, open(os.path.join(d, 'pillow-enhance.json'), 'w'))
print('wrote', len(cases), 'cases, Pillow', PIL.__version__)
