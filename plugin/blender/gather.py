"""Compositor nodes to EXR sequences on disk, and results back into the tree.

Blender shows file number ``f - frame_start + 1 + frame_offset`` of an image
sequence at scene frame ``f``; the renderer works in file numbers, so every
mapping here goes through ``NodeSequence.scene_frame``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import bpy

from plugin.core import RAW, BadMatte, BadPlate, BadReference, frame_path, pattern_from_file

INPUT_ERRORS = {"plate": BadPlate, "matte": BadMatte, "reference": BadReference}

RAW_COLOURSPACE = "Non-Color"  # Blender's name for "no colour conversion"


@dataclass(frozen=True)
class NodeSequence:
    """An image-sequence node as files: ``pattern`` holds file numbers ``first``-``last``."""

    node_name: str
    pattern: str
    first: int
    last: int
    frame_start: int  # scene frame that shows file ``first``... of the node's range start
    frame_offset: int
    colourspace: str
    size: tuple[int, int]
    exr: bool

    def scene_frame(self, number: int) -> int:
        return number - 1 - self.frame_offset + self.frame_start

    def same_timing(self, other: "NodeSequence") -> bool:
        return self.frame_start - self.frame_offset == other.frame_start - other.frame_offset


def image_sequence(node, role: str) -> NodeSequence:
    """The files behind an Image node; raises ``BadPlate``/``BadMatte`` saying what to pick."""
    error = INPUT_ERRORS[role]
    if node is None:
        raise error(f"Pick the {role}'s Image node in the Inpaint panel (Compositor > Sidebar > Inpaint)")
    if node.bl_idname != "CompositorNodeImage" or node.image is None:
        raise error(f"'{node.name}' is not an Image node with an image in it: pick the node that reads the {role}")
    image = node.image
    if image.source not in ("SEQUENCE", "FILE") or image.packed_file is not None:
        raise error(f"'{node.name}' holds a {image.source.lower()} image; the {role} must be an image sequence "
                    "on disk (Image node > Open, pick the first frame)")
    path = bpy.path.abspath(image.filepath_raw or image.filepath)
    if image.source == "SEQUENCE":
        pattern, _ = pattern_from_file(path)
        first, last = node.frame_offset + 1, node.frame_offset + max(1, node.frame_duration)
    else:
        pattern = path
        first = last = node.frame_offset + 1
    if not os.path.isfile(frame_path(pattern, first)):
        raise error(f"'{node.name}': the {role}'s first frame {frame_path(pattern, first)} is not on disk")
    return NodeSequence(node_name=node.name, pattern=pattern, first=first, last=last, frame_start=node.frame_start,
                        frame_offset=node.frame_offset, colourspace=image.colorspace_settings.name,
                        size=_image_size(frame_path(pattern, first)), exr=path.lower().endswith(".exr"))


def _image_size(path: str) -> tuple[int, int]:
    image = bpy.data.images.load(path, check_existing=False)
    try:
        return tuple(image.size)
    finally:
        bpy.data.images.remove(image)


def render_node_input(node, plate: NodeSequence, frames, pattern: str) -> str:
    """Render an Image node's frames (at the plate's scene frames) raw to float EXRs."""

    def build(tree):
        copy = tree.nodes.new("CompositorNodeImage")
        copy.image = node.image
        copy.frame_start, copy.frame_offset, copy.frame_duration = node.frame_start, node.frame_offset, \
            node.frame_duration
        copy.use_cyclic = node.use_cyclic
        return copy.outputs["Image"]

    return render_to_exr(build, plate, frames, pattern)


def render_mask(mask, plate: NodeSequence, frames, pattern: str) -> str:
    """Render a mask data-block at the plate's size to EXRs (the matte is in R, G and B)."""
    if mask is None:
        raise BadMatte("Pick the Mask data-block of the hole in the Inpaint panel (or switch Matte from to "
                       "Image node)")

    def build(tree):
        node = tree.nodes.new("CompositorNodeMask")
        node.mask = mask
        return node.outputs["Mask"]

    return render_to_exr(build, plate, frames, pattern)


def render_to_exr(build, plate: NodeSequence, frames, pattern: str) -> str:
    """Render ``build(tree) -> socket`` in a scratch scene for each frame (file numbers of
    ``plate``) to ``pattern`` as 32-bit float EXRs, scene-linear and unclamped."""
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    scene = bpy.data.scenes.new("Inpaint gather")
    tree = bpy.data.node_groups.new("Inpaint gather", "CompositorNodeTree")
    try:
        scene.render.resolution_x, scene.render.resolution_y = plate.size
        scene.render.resolution_percentage = 100
        tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        out = tree.nodes.new("NodeGroupOutput")
        tree.links.new(build(tree), out.inputs[0])
        scene.compositing_node_group = tree
        fmt = scene.render.image_settings
        fmt.media_type = "IMAGE"  # before file_format (Blender 5)
        fmt.file_format = "OPEN_EXR"
        fmt.color_mode, fmt.color_depth, fmt.exr_codec = "RGBA", "32", "ZIP"
        for number in frames:
            scene.frame_current = plate.scene_frame(number)
            scene.render.filepath = frame_path(pattern, number)
            bpy.ops.render.render(write_still=True, scene=scene.name)
    finally:
        bpy.data.scenes.remove(scene)
        bpy.data.node_groups.remove(tree)
    return pattern


def reference_files(node, plate: NodeSequence, frames, scratch: str) -> dict[int, str]:
    """frame -> EXR of each painted frame (plate file numbers) from the reference's Image node:
    its own EXR when it can be used as is, else the node rendered at the plate's scene frames."""
    ref = image_sequence(node, "reference")
    if ref.size != plate.size:
        raise BadReference(f"'{ref.node_name}' is {ref.size[0]}x{ref.size[1]} but the plate is {plate.size[0]}x"
                           f"{plate.size[1]}: paint the reference on the whole frame, at the plate's size")
    single = node.image.source == "FILE"
    if single and len(frames) > 1:
        raise BadReference(f"'{ref.node_name}' holds one image, but Reference frames lists {len(frames)} frames: "
                           "give the one frame it shows, or use an image sequence of painted frames")
    if ref.exr and (single or ref.same_timing(plate)):
        return {f: frame_path(ref.pattern, f) for f in frames}  # one image: its path, whatever the frame
    pattern = render_node_input(node, plate, frames, os.path.join(scratch, "reference.####.exr"))
    return {f: frame_path(pattern, f) for f in frames}


def place_result(tree, plate: NodeSequence, spec, label: str = "Inpaint result"):
    """Create (or update) the result Image node (or the source map's) beside the plate's node."""
    node = tree.nodes.get(spec.name)
    if node is None or node.bl_idname != "CompositorNodeImage":
        node = tree.nodes.new("CompositorNodeImage")
        node.name = spec.name
    node.label = label
    first_file = frame_path(spec.path, spec.first)
    image = node.image
    if image is None or bpy.path.abspath(image.filepath_raw) != first_file:
        image = bpy.data.images.load(first_file, check_existing=False)
        image.name = spec.name
    else:
        image.reload()
    image.source = "SEQUENCE"
    image.colorspace_settings.name = RAW_COLOURSPACE if spec.colourspace == RAW else spec.colourspace
    node.image = image
    node.frame_duration = spec.last - spec.first + 1
    node.frame_offset = spec.first - 1
    node.frame_start = plate.scene_frame(spec.first)
    node.location = spec.position
    return node
