"""The notebooks' figures, one function a figure, so that a cell shows the idea and one call draws it."""

import matplotlib.pyplot as plt
import numpy as np


# ---- going_further.ipynb ------------------------------------------------------------------------
