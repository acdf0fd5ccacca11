"""The paper's method and nothing else (Zhang et al., ICCV 2019; ``docs/method.md``):
the network (``model``), its losses (``losses``) and warp (``warp``), the reference flow
(``flow``), the batch schedule (``schedule``), the inputs on the device (``prepare``),
one training step and inference (``step``), and the same step replayed from CUDA
graphs (``graphs``)."""
