"""Draw the computation graph of the notebook's two-layer network, forward and backward.

Row layout as in the notebook: one example per row, so X is (m, 784) and Z1 = X W1 + b1 is (m, H).
Black arrows are the forward pass (`forward`), red arrows the gradients of `backward`, each
labelled with the line of code that computes it (`dT` is dL/dT for a tensor T). Writes computation_graph.png
next to this file:

    python docs/computation_graph.py
"""

from pathlib import Path

import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parent / "computation_graph.png"
FORWARD, BACKWARD = "black", "#c62828"
FONT = 10.5                # readable when GitHub shrinks the 1100-px image to its column width
CHAIN_Y, PARAM_Y = 4.0, 6.3  # heights of the forward chain and of the parameter row (axes units)
LABEL_GAP = 0.9            # from a parameter's box up to its gradient's label


def value(ax, x, y, text):
    """A value (array) node: a square box; its text gives the name and the shape."""
    return ax.text(x, y, text, ha="center", va="center", fontsize=FONT, zorder=3,
                   bbox=dict(boxstyle="square,pad=0.35", fc="#eef3fb", ec="#34495e", lw=1.2))


def operation(ax, x, y, text):
    """An operation node: a rounded box."""
    return ax.text(x, y, text, ha="center", va="center", fontsize=FONT - 1, zorder=3,
                   bbox=dict(boxstyle="round,pad=0.4,rounding_size=0.8", fc="#fff6e0",
                             ec="#b9770e", lw=1.2))


def arrow(ax, source, target, color=FORWARD, rad=0.0):
    """An arrow from one node's box to another's, bent by `rad` (0 is straight)."""
    ax.annotate("", xy=(0.5, 0.5), xycoords=target, xytext=(0.5, 0.5), textcoords=source,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.4, mutation_scale=14,
                                shrinkA=3, shrinkB=3, connectionstyle=f"arc3,rad={rad}",
                                patchA=source.get_bbox_patch(), patchB=target.get_bbox_patch()))


def gradient(ax, x, y, text):
    """A red label naming the gradient that a red arrow carries."""
    ax.text(x, y, text, color=BACKWARD, fontsize=FONT, ha="center", va="center")


def backward_arc(ax, source, target, text, dip=1.1):
    """A red arc under the chain from `source` back to `target`, `dip` units deep, labelled below."""
    (x0, y0), (x1, _) = source.get_position(), target.get_position()
    arrow(ax, source, target, BACKWARD, rad=-2 * dip / abs(x1 - x0))  # arc3 dips rad * distance / 2
    gradient(ax, (x0 + x1) / 2, y0 - dip - 0.35, text)  # just below the arc's lowest point


fig = plt.figure(figsize=(11, 4.3), dpi=100)
ax = fig.add_axes([0, 0, 1, 1], xlim=(0, 22), ylim=(0, 8.6))  # the whole figure, 2 units per inch
ax.axis("off")

# Forward pass, left to right. The x positions leave about 0.8 units between neighbouring boxes;
# each weight and bias sit either side of their matmul, far enough apart for their gradients' labels.
CHAIN = [("X", 1.05, "$X$\n$(m, 784)$"), ("mm1", 3.2, "matmul\n+ bias"),
         ("Z1", 6.05, "$Z^{[1]} = XW^{[1]} + b^{[1]}$\n$(m, H)$"), ("relu", 8.7, "ReLU"),
         ("A1", 10.55, "$A^{[1]}$\n$(m, H)$"), ("mm2", 12.55, "matmul\n+ bias"),
         ("Z2", 15.55, "$Z^{[2]} = A^{[1]}W^{[2]} + b^{[2]}$\n$(m, 10)$"),
         ("loss", 18.85, "softmax +\ncross-entropy"), ("L", 21.2, "$L$\nscalar")]
PARAMETERS = [("W1", 1.95, "$W^{[1]}$  $(784, H)$"), ("b1", 5.25, "$b^{[1]}$  $(H,)$"),
              ("W2", 10.9, "$W^{[2]}$  $(H, 10)$"), ("b2", 14.5, "$b^{[2]}$  $(10,)$"),
              ("Y", 17.9, "$Y$  $(m, 10)$\none-hot labels"),
              ("decay", 20.75, "weight decay\n" r"$(\lambda/2)\,\Sigma\Vert W\Vert^2$")]
OPERATIONS = {"mm1", "relu", "mm2", "loss"}   # drawn as rounded boxes; the rest are values
node = {name: (operation if name in OPERATIONS else value)(ax, x, y, text)
        for row, y in ((CHAIN, CHAIN_Y), (PARAMETERS, PARAM_Y)) for name, x, text in row}
for source, target in map(str.split, ["X mm1", "W1 mm1", "b1 mm1", "mm1 Z1", "Z1 relu", "relu A1", "A1 mm2",
                                      "W2 mm2", "b2 mm2", "mm2 Z2", "Z2 loss", "Y loss", "loss L", "decay L"]):
    arrow(ax, node[source], node[target])

# Backward pass, right to left: under the chain for the activations, up to the parameters.
backward_arc(ax, node["L"], node["Z2"], r"$dZ^{[2]} = (\hat Y - Y)\,/\,m$")
backward_arc(ax, node["Z2"], node["A1"], r"$dA^{[1]} = dZ^{[2]}\,W^{[2]\top}$")
backward_arc(ax, node["A1"], node["Z1"], r"$dZ^{[1]} = dA^{[1]} \odot \mathbf{1}[Z^{[1]} > 0]$")
for op, param, text in [
        ("mm2", "W2", r"$dW^{[2]} = A^{[1]\top} dZ^{[2]} + \lambda W^{[2]}$"),
        ("mm2", "b2", r"$db^{[2]} = \Sigma_\mathrm{rows}\, dZ^{[2]}$"),
        ("mm1", "W1", r"$dW^{[1]} = X^\top dZ^{[1]} + \lambda W^{[1]}$"),
        ("mm1", "b1", r"$db^{[1]} = \Sigma_\mathrm{rows}\, dZ^{[1]}$")]:
    arrow(ax, node[op], node[param], BACKWARD, rad=0.3)  # bent, to run beside the black arrow
    gradient(ax, node[param].get_position()[0], PARAM_Y + LABEL_GAP, text)

TITLE = "The computation graph of the two-layer network: forward (black) and backward (red)"
ax.text(11, 8.15, TITLE, ha="center", fontsize=FONT + 2)  # x = 11 is the middle of the figure
for y, caption in [(1.2, r"red: gradients flowing back; each $dT$ has the shape of its tensor $T$ "
                        r"(so $dW^{[1]}$ is $(784, H)$, like $W^{[1]}$)"),
                   (0.65, r"$\hat Y = \mathrm{softmax}(Z^{[2]})$ is $\mathtt{P}$ in the code; "
                          r"the weight decay ($\lambda$ = $\mathtt{L2}$) is where the $\lambda W$ terms "
                          r"come from")]:
    ax.text(11, y, caption, ha="center", fontsize=FONT - 0.5, color="#444444")
fig.savefig(OUT, facecolor="white")
