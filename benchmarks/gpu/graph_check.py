"""Does a replayed CUDA graph step do what an eager step does from the same state?

At every step of a short run on the paper net (the test shot of
tests/renderer/test_renderer_graphs.py), two twins are copied from the graphed
network and its Adam state and take the same step eagerly. Printed per step:
the graphed step's loss and the twin's (the same forward at the same weights,
so they should agree to rounding), and the cosine between the two weight
updates; then the same two figures for a second eager twin against the first,
which is the noise floor of eager CUDA itself (atomics in some backward kernels).
Usage: python benchmarks/gpu/graph_check.py [ROUNDS]
"""

import sys

import torch

sys.path.insert(0, "tests/renderer")

from test_renderer_graphs import SEGMENTS, _eager_twin, _setup, _update  # noqa: E402

from renderer.method.graphs import GraphedSteps, capturable_adam  # noqa: E402
from renderer.presets import PAPER  # noqa: E402
from renderer.method.step import train_step  # noqa: E402


def main(rounds: int = 2) -> None:
    torch.backends.cudnn.deterministic = True
    preset, prep, net = _setup(PAPER, "cuda")
    opt = capturable_adam(net.parameters(), preset.lr)
    graphed = GraphedSteps(net, opt, preset, precision="fp32")
    print("step | kind | graph loss | eager twin loss | rel diff | update cos | twin-twin rel diff | twin-twin cos")
    for k, seg in enumerate(SEGMENTS * rounds):
        lr = preset.lr * (1.0 - 0.02 * k)
        before = [p.detach().clone() for p in net.parameters()]
        a, a_opt = _eager_twin(net, opt, lr)
        b, b_opt = _eager_twin(net, opt, lr)
        la = float(train_step(a, a_opt, prep, seg, preset, lr=lr, precision="fp32")["total"])
        lb = float(train_step(b, b_opt, prep, seg, preset, lr=lr, precision="fp32")["total"])
        replays = graphed.replays
        lg = float(graphed(prep, seg, 0, lr)["total"])
        ug, ua, ub = _update(net, before), _update(a, before), _update(b, before)
        cos = float(torch.nn.functional.cosine_similarity(ug, ua, dim=0))
        cos_twins = float(torch.nn.functional.cosine_similarity(ub, ua, dim=0))
        how = "replay" if graphed.replays > replays else "eager"
        print(f"{k} | {how} | {lg:.7f} | {la:.7f} | {abs(lg - la) / la:.2e} | {cos:.6f} | "
              f"{abs(lb - la) / la:.2e} | {cos_twins:.6f}")
    print(f"graphs {len(graphed.graphs)}, replays {graphed.replays}, eager {graphed.eager}, "
          f"failure {graphed.failure}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
