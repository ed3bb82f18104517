#!/usr/bin/python3
"""Winograd F(m, r) transforms by Toom-Cook, and their float32 error against float64.

Derives A^T, G and B^T for given interpolation points (plus the point at infinity), checks them exactly
in float64, and measures the 2-D float32 error of one output tile summed over C channels, relative to
the tile's largest magnitude (the measure the WebAssembly tests use). Used to choose the points of
assembly/winograd.ts (F(4x4, 3x3)) and assembly/winograd-s2.ts (F(4, 2)), and to try F(6x6, 3x3).

Usage: /usr/bin/python3 packages/tensor/scripts/winograd-error.py   (needs numpy)
"""
from fractions import Fraction as Fr

import numpy as np


def matrices(points, m, r):
    """A^T (m x a), G (a x r), B^T (a x a) of F(m, r) at the finite `points` and infinity (a = m + r - 1)."""
    a = m + r - 1
    assert len(points) == a - 1
    row = lambda p, n: [Fr(p) ** k for k in range(n)]
    Va = [row(p, m) for p in points] + [[Fr(0)] * (m - 1) + [Fr(1)]]
    Vb = [row(p, r) for p in points] + [[Fr(0)] * (r - 1) + [Fr(1)]]
    V = [row(p, a) for p in points] + [[Fr(0)] * (a - 1) + [Fr(1)]]
    # Exact inverse of the interpolation matrix V.
    M = [list(V[i]) + [Fr(int(i == j)) for j in range(a)] for i in range(a)]
    for c in range(a):
        piv = next(i for i in range(c, a) if M[i][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        M[c] = [x / M[c][c] for x in M[c]]
        for i in range(a):
            if i != c and M[i][c] != 0:
                f = M[i][c]
                M[i] = [x - f * y for x, y in zip(M[i], M[c])]
    Vinv = [row_[a:] for row_ in M]
    AT = [[Va[k][i] for k in range(a)] for i in range(m)]
    BT = [[Vinv[j][k] for j in range(a)] for k in range(a)]
    return AT, Vb, BT


def tile_error(points, m, r, C=256, trials=6, seed=0):
    AT, G, BT = (np.array(x, dtype=np.float64) for x in matrices(points, m, r))
    a = m + r - 1
    rng = np.random.default_rng(seed)
    # Exact in float64 first.
    d, g = rng.standard_normal((a, a)), rng.standard_normal((r, r))
    y = AT @ ((G @ g @ G.T) * (BT @ d @ BT.T)) @ AT.T
    ref = np.array([[(d[i:i + r, j:j + r] * g).sum() for j in range(m)] for i in range(m)])
    assert np.allclose(y, ref), points
    A32, G32, B32 = (x.astype(np.float32) for x in (AT, G, BT))
    worst = 0.0
    for _ in range(trials):
        D = rng.standard_normal((C, a, a)).astype(np.float32)
        K = rng.standard_normal((C, r, r)).astype(np.float32)
        U = np.einsum('ar,crs,bs->cab', G32, K, G32).astype(np.float32)
        V = np.einsum('ak,ckl,bl->cab', B32, D, B32).astype(np.float32)
        acc = np.zeros((a, a), np.float32)
        for c in range(C):
            acc = (acc + U[c] * V[c]).astype(np.float32)
        Y = (A32 @ acc @ A32.T).astype(np.float32)
        Dd, Kd = D.astype(np.float64), K.astype(np.float64)
        ref = np.array([[(Dd[:, i:i + r, j:j + r] * Kd).sum() for j in range(m)] for i in range(m)])
        worst = max(worst, float(np.abs(Y - ref).max() / np.abs(ref).max()))
    return worst


if __name__ == '__main__':
    F = Fr
    cases = [
        ('F(4x4, 3x3), graft (0, +-3/2, +-2/3)', [0, F(3, 2), F(-3, 2), F(2, 3), F(-2, 3)], 4, 3),
        ('F(4x4, 3x3), 0, +-1, +-2', [0, 1, -1, 2, -2], 4, 3),
        ('F(4x4, 2x2), graft stride-2 ee (0, 1, -1, 2)', [0, 1, -1, 2], 4, 2),
        ('F(6x6, 3x3), 0, +-1, +-2, +-1/2', [0, 1, -1, 2, -2, F(1, 2), F(-1, 2)], 6, 3),
        ('F(6x6, 3x3), 0, +-1, +-3/2, +-2/3', [0, 1, -1, F(3, 2), F(-3, 2), F(2, 3), F(-2, 3)], 6, 3),
    ]
    for name, pts, m, r in cases:
        print(f'{name:48s} float32 error {tile_error(pts, m, r):.2e} of the largest output (256 channels)')
