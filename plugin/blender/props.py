"""The add-on's settings: one property group on the scene, built from ``plugin.core.KNOBS``."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from plugin.core import KNOBS, NodeSettings

MATTE_SOURCES = (("NODE", "Image node", "An image-sequence node holding the matte"),
                 ("MASK", "Mask", "A mask data-block, rendered to a matte at the plate's size"))


def _prop(knob):
    common = {"name": knob.label, "description": knob.tooltip}
    if knob.kind == "int":
        return IntProperty(default=knob.default, min=knob.minimum if knob.minimum is not None else -2**31, **common)
    if knob.kind == "enum":
        return EnumProperty(items=[(c, c, "") for c in knob.choices], default=knob.default, **common)
    if knob.kind == "file":
        return StringProperty(default=knob.default, subtype="FILE_PATH", **common)
    if knob.kind == "bool":
        return BoolProperty(default=knob.default, **common)
    return StringProperty(default=knob.default, **common)


class InpaintSettings(bpy.types.PropertyGroup):
    """Scene.inpaint: the node settings plus which nodes are the plate, matte and reference."""

    __annotations__ = {
        "plate_node": StringProperty(name="Plate", description="Image-sequence node of the plate"),
        "matte_source": EnumProperty(name="Matte from", items=MATTE_SOURCES, default="NODE"),
        "matte_node": StringProperty(name="Matte", description="Image-sequence node of the matte"),
        "mask": PointerProperty(name="Mask", type=bpy.types.Mask, description="Mask data-block of the hole"),
        "reference_node": StringProperty(name="Reference", description="Image node of a clean frame you painted "
                                                                       "(optional; its frames go in Reference frames)"),
        **{knob.name: _prop(knob) for knob in KNOBS},
        "status": StringProperty(name="Status", default="Idle"),
        "progress": FloatProperty(name="Progress", subtype="PERCENTAGE", min=0, max=100),
        "running": BoolProperty(name="Running"),
        "result_file": StringProperty(name="Result", subtype="FILE_PATH"),
        "result_first": IntProperty(name="Result first"),
        "result_last": IntProperty(name="Result last"),
        "result_colourspace": StringProperty(name="Result colourspace"),
        "result_node": StringProperty(name="Result node"),
        "result_source_map": StringProperty(name="Source map", subtype="FILE_PATH"),
        "result_source_map_node": StringProperty(name="Source map node"),
    }


def settings_of(props) -> NodeSettings:
    return NodeSettings.from_values({knob.name: getattr(props, knob.name) for knob in KNOBS})
