"""Golden fixtures for @graft/data: small synthetic images and torchvision's transform outputs.

Run from the repository root with Debian's PyTorch (torch 1.13, torchvision 0.14):

    /usr/bin/python3 scripts/golden/data.py

Writes packages/data/fixtures/{*.png,*.jpg,transforms.json}. Every image is a deterministic
pixel array, so rerunning the script reproduces the files byte for byte.

Which torchvision path the fixtures pin down: graft's RawImage plays the PIL image's role, but
Resize on it computes what torchvision's *tensor* path computes for a uint8 tensor
(F.resize(..., antialias=True): float32 separable triangle filter, torch.round, cast to uint8),
not PIL's own resampler. So resize goldens come from uint8 tensors (pil_to_tensor of the PNG).
Grayscale on a RawImage follows the PIL path (Image.convert('L')); on a tensor, the tensor path.
The ImageNet preset is written out step by step with antialias=True (torchvision >= 0.17's
default; 0.14's ImageClassification preset does not antialias tensors).
"""

import base64
import json
import os

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "data", "fixtures")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def pattern(h, w, c, seed):
    """A deterministic image with smooth gradients and sharp detail, so antialiasing matters."""
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for k in range(c):
        smooth = (x * (7 + 5 * k) + y * (11 - 3 * k) + 17 * seed) % 256
        sharp = ((x // 2 + y + k + seed) % 2) * 90
        planes.append((smooth * 0.6 + sharp + ((x * y * (k + 3) + seed) % 37)) % 256)
    return np.stack(planes, axis=-1).astype(np.uint8)


def entry(array):
    """An array as {shape, dtype, base64 of its little-endian bytes}: float32 and uint8 stay exact and small."""
    array = np.ascontiguousarray(np.asarray(array))
    if array.dtype != np.uint8:
        array = array.astype("<f4")
    return {"shape": list(array.shape), "dtype": "uint8" if array.dtype == np.uint8 else "float32",
            "base64": base64.b64encode(array.tobytes()).decode("ascii")}


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {
        "rgb": Image.fromarray(pattern(15, 21, 3, 1), "RGB"),  # 21 wide, 15 high
        "gray": Image.fromarray(pattern(19, 13, 1, 2)[:, :, 0], "L"),  # portrait
        "rgba": Image.fromarray(pattern(11, 14, 4, 3), "RGBA"),
        "photo": Image.fromarray(pattern(29, 37, 3, 4), "RGB"),  # for the ImageNet preset
    }
    out = {}
    for name, img in images.items():
        img.save(os.path.join(OUT, f"{name}.png"))
        # What PIL decodes from the PNG: the reference for sharp's decoding.
        out[f"{name}/pixels"] = entry(np.array(Image.open(os.path.join(OUT, f"{name}.png"))))
    images["rgb"].save(os.path.join(OUT, "rgb.jpg"), quality=95)
    out["rgb/jpg_pixels"] = entry(np.array(Image.open(os.path.join(OUT, "rgb.jpg"))))

    for name in ["rgb", "gray", "rgba"]:
        img = images[name]
        u8 = F.pil_to_tensor(img)  # uint8 [C, H, W]
        f32 = F.to_tensor(img)  # float32 [C, H, W] in [0, 1]
        out[f"{name}/to_tensor"] = entry(f32)
        out[f"{name}/resize_aa_uint8_small_edge_8"] = entry(F.resize(u8, 8, antialias=True))
        out[f"{name}/resize_aa_uint8_5x6"] = entry(F.resize(u8, [5, 6], antialias=True))
        out[f"{name}/resize_aa_uint8_up_23x31"] = entry(F.resize(u8, [23, 31], antialias=True))
        out[f"{name}/resize_aa_float_9x7"] = entry(F.resize(f32, [9, 7], antialias=True))
        out[f"{name}/resize_bilinear_uint8_6x17"] = entry(F.resize(u8, [6, 17], antialias=False))
        out[f"{name}/resize_bilinear_float_up_20x25"] = entry(F.resize(f32, [20, 25], antialias=False))
        out[f"{name}/resize_nearest_uint8_7x9"] = entry(
            F.resize(u8, [7, 9], interpolation=F.InterpolationMode.NEAREST)
        )
        out[f"{name}/center_crop_8x9"] = entry(F.center_crop(u8, [8, 9]))
        out[f"{name}/center_crop_pad_20x24"] = entry(F.center_crop(u8, [20, 24]))
        out[f"{name}/resized_crop_2_3_7_9_to_6x5"] = entry(F.resized_crop(u8, 2, 3, 7, 9, [6, 5], antialias=True))
        out[f"{name}/hflip"] = entry(F.hflip(u8))
        # PIL path: HWC uint8 arrays.
        out[f"{name}/pil_gray1"] = entry(np.array(F.to_grayscale(img, 1)))
        out[f"{name}/pil_gray3"] = entry(np.array(F.to_grayscale(img, 3)))
        out[f"{name}/pil_rgb"] = entry(np.array(img.convert("RGB")))

    rgb = images["rgb"]
    u8 = F.pil_to_tensor(rgb)
    f32 = F.to_tensor(rgb)
    out["rgb/normalize"] = entry(F.normalize(f32, MEAN, STD))
    out["rgb/tensor_gray1_uint8"] = entry(F.rgb_to_grayscale(u8, 1))
    out["rgb/tensor_gray3_float"] = entry(F.rgb_to_grayscale(f32, 3))
    for factor in [0.6, 1.3]:
        out[f"rgb/brightness_{factor}_uint8"] = entry(F.adjust_brightness(u8, factor))
        out[f"rgb/brightness_{factor}_float"] = entry(F.adjust_brightness(f32, factor))
        out[f"rgb/contrast_{factor}_uint8"] = entry(F.adjust_contrast(u8, factor))
        out[f"rgb/contrast_{factor}_float"] = entry(F.adjust_contrast(f32, factor))
        out[f"rgb/saturation_{factor}_uint8"] = entry(F.adjust_saturation(u8, factor))
        out[f"rgb/saturation_{factor}_float"] = entry(F.adjust_saturation(f32, factor))
    for factor in [0.1, -0.3, 0.5]:
        out[f"rgb/hue_{factor}_uint8"] = entry(F.adjust_hue(u8, factor))
        out[f"rgb/hue_{factor}_float"] = entry(F.adjust_hue(f32, factor))
    out["gray/contrast_0.6_uint8"] = entry(F.adjust_contrast(F.pil_to_tensor(images["gray"]), 0.6))

    # ImageNet preset at small sizes: resize smaller edge to 20 (antialias), center crop 16,
    # uint8 -> float in [0, 1], normalize.
    photo = F.pil_to_tensor(images["photo"])
    x = F.resize(photo, [20], antialias=True)
    out["photo/preset_resized"] = entry(x)
    x = F.center_crop(x, [16])
    x = F.convert_image_dtype(x, torch.float)
    out["photo/preset"] = entry(F.normalize(x, MEAN, STD))

    with open(os.path.join(OUT, "transforms.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": __import__("torchvision").__version__, "fixtures": out}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
