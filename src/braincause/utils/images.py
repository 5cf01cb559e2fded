"""Reading a user's image files as the encoders expect them (8-bit RGB, square)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from braincause.exceptions import UserInputError

__all__ = ["IMAGE_SUFFIXES", "read_image", "square_crop"]

#: the image files braincause reads from a user's folders (case-insensitive)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: larger images are refused (a decompression bomb, or a file to downscale first)
MAX_IMAGE_PIXELS = 50_000_000


def read_image(path: str | Path) -> np.ndarray:
    """One image file as the encoder expects it: 8-bit RGB, EXIF orientation applied,
    centre-cropped to a square.

    Parameters
    ----------
    path : path
        A PNG or JPEG file.

    Returns
    -------
    ndarray of shape (side, side, 3), uint8
        ``side`` is the shorter side of the image.

    Raises
    ------
    UserInputError
        The file cannot be decoded as an image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise UserInputError(f"image {str(p)!r} has {im.width} × {im.height} pixels, "
                                     f"more than {MAX_IMAGE_PIXELS:,}: downscale it first")
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA").convert("RGB")  # alpha dropped
            rgb = np.asarray(im.convert("RGB"), np.uint8)
    except UserInputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        why = ("not an image format Pillow recognises" if isinstance(e, UnidentifiedImageError)
               else f"{type(e).__name__}: {e}")
        raise UserInputError(f"cannot read image {str(p)!r} ({why}); remove it from the "
                             "input or re-save it as PNG/JPEG") from e
    return square_crop(rgb)


def square_crop(image: np.ndarray) -> np.ndarray:
    """The central square of ``image`` (its shorter side).

    Parameters
    ----------
    image : ndarray of shape (height, width, 3)

    Returns
    -------
    ndarray of shape (side, side, 3)
    """
    h, w = image.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return np.ascontiguousarray(image[top:top + s, left:left + s])


