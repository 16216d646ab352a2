"""Writes src/decode/__fixtures__/pillow-jpeg.json: small JPEGs (4:2:0 and 4:4:4) cut from chelsea.png and
Pillow's decoding of them (Image.open(...).convert("RGB")), to check that decodeImage (sharp/libvips)
yields the same pixels transformers would see. Run with a Python that has Pillow."""
import base64, io, json, os, PIL
from PIL import Image

here = os.path.dirname(__file__)
src = Image.open(os.path.join(here, '..', '..', '..', '..', 'shared', 'fixtures', 'hf-reference', 'preprocess', 'chelsea.png')).convert('RGB')
crop = src.crop((200, 100, 248, 132))  # 48 x 32
cases = []
for q, sub in [(75, 2), (95, 0)]:  # subsampling 2 = 4:2:0, 0 = 4:4:4
    buf = io.BytesIO(); crop.save(buf, 'JPEG', quality=q, subsampling=sub)
    jpg = buf.getvalue()
    cases.append({'quality': q, 'subsampling': sub, 'jpeg': base64.b64encode(jpg).decode(),
                  'rgb': base64.b64encode(Image.open(io.BytesIO(jpg)).convert('RGB').tobytes()).decode()})
json.dump({'pillow': PIL.__version__, 'width': 48, 'height': 32, 'cases': cases}, open(os.path.join(here, '..', 'src', 'decode', '__fixtures__', 'pillow-jpeg.json'), 'w'))
print('wrote', len(cases), 'cases')
