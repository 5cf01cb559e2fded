"""Encoding models: image features from a pretrained backbone, mapped to voxel responses.

:mod:`braincause.encoding.backbone` defines the :class:`Backbone` protocol, the offline
default :class:`MobileNetV2Backbone` (ImageNet MobileNetV2, multi-depth pooled features)
and :class:`CachedBackbone` (features stored on disk by image content and backbone
fingerprint). :mod:`braincause.encoding.mobilenet` holds the network itself and finds its
weights. :class:`BrainEncoder` is the protocol of the fitted image-to-voxel model
(:class:`RidgeEncoder`, fitted by :func:`braincause.encoding.fit.fit_encoder`).
"""

from braincause.encoding.backbone import (
    DEFAULT_LAYERS,
    Backbone,
    CachedBackbone,
    MobileNetV2Backbone,
    image_key,
)
from braincause.encoding.ridge import BrainEncoder

__all__ = ["DEFAULT_LAYERS", "Backbone", "BrainEncoder", "CachedBackbone", "MobileNetV2Backbone",
           "image_key"]
