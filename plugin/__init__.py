"""The artist's side of internal-inpaint: a host-agnostic core plus Nuke and Blender front ends."""
