"""bench/torch_bench.py: the PyTorch side of bench/run, the reference
workloads W1-W7 written as the .seq files in bench/models/ are, in torch.

Same sizes, Keras's initialisation where torch can express it (glorot_uniform
kernels, orthogonal recurrent kernels, zero biases, LSTM unit_forget_bias,
Embedding U(-0.05, 0.05)), one bias per SimpleRNN/LSTM gate (torch's
redundant bias_hh is frozen, as tools/seqc_torch.freeze_redundant_biases
does), Keras's losses (mean over every element) and Adam with Keras's
epsilon 1e-7. Data: synthetic, the shapes of the .seq inputs and targets.

Two modes:

  torch_bench.py worker W THREADS    reads commands on stdin, one per line:
      "run K"   K training steps (zero_grad, forward, loss, backward,
                Adam step), prints a JSON list of K step times in seconds;
      "rss"     prints the process's peak RSS (VmHWM) in KiB;
      "quit".
      Prints "ready" after building the model and 3 warm-up steps.

  torch_bench.py fit X.npy Y.npy EPOCHS THREADS
      W1's whole fit as a process: 100 samples, batch 32, shuffled every
      epoch, the last partial batch kept (the seqc trainer's defaults).

Threads: torch.set_num_threads(THREADS); bench/run also sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE in the environment.
"""

import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------- init


def keras_rnn_init(rnn, gates, unit_forget_bias=False):
    """glorot_uniform input kernels, orthogonal recurrent kernels (per gate
    block, as Keras's [u, G*u] orthogonal matrix is close to), zero biases;
    bias_hh frozen for SimpleRNN/LSTM (Keras has one bias)."""
    for name, p in rnn.named_parameters():
        with torch.no_grad():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(p)  # fan_in + fan_out of the whole [D, G*u]
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(p)
            elif name.startswith("bias"):
                p.zero_()
                if unit_forget_bias and name.startswith("bias_ih"):
                    u = p.shape[0] // 4
                    p[u:2 * u] = 1.0
    if gates in (1, 4):  # SimpleRNN, LSTM: one Keras bias
        for name, p in rnn.named_parameters():
            if name.startswith("bias_hh"):
                p.requires_grad_(False)


def keras_dense(i, o):
    lin = nn.Linear(i, o)
    nn.init.xavier_uniform_(lin.weight)
    nn.init.zeros_(lin.bias)
    return lin


def keras_embedding(v, d):
    e = nn.Embedding(v, d)
    nn.init.uniform_(e.weight, -0.05, 0.05)
    return e


# ---------------------------------------------------------------- models


class W1(nn.Module):  # SimpleRNN(8, seq) -> Dense(7, softmax), CE
    B = 32

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(7, 8, batch_first=True)
        keras_rnn_init(self.rnn, 1)
        self.dense = keras_dense(8, 7)

    def data(self, n):
        x = F.one_hot(torch.randint(0, 7, (n, 3)), 7).float()
        y = F.one_hot(torch.randint(0, 7, (n, 3)), 7).float()
        return x, y

    def loss(self, x, y):
        h, _ = self.rnn(x)
        return -(y * F.log_softmax(self.dense(h), -1)).sum(-1).mean()


class W2(nn.Module):  # SimpleRNN(32) on [50, 10] -> Dense(1), MSE
    B = 32

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(10, 32, batch_first=True)
        keras_rnn_init(self.rnn, 1)
        self.dense = keras_dense(32, 1)

    def data(self, n):
        return torch.randn(n, 50, 10), torch.randn(n, 1)

    def loss(self, x, y):
        _, h = self.rnn(x)
        return F.mse_loss(self.dense(h[0]), y)


class W3(nn.Module):  # LSTM(64, seq) -> LSTM(32) -> Dense(1), MSE
    B = 32

    def __init__(self):
        super().__init__()
        self.l1 = nn.LSTM(10, 64, batch_first=True)
        self.l2 = nn.LSTM(64, 32, batch_first=True)
        keras_rnn_init(self.l1, 4, True)
        keras_rnn_init(self.l2, 4, True)
        self.dense = keras_dense(32, 1)

    def data(self, n):
        return torch.randn(n, 50, 10), torch.randn(n, 1)

    def loss(self, x, y):
        h, _ = self.l1(x)
        _, (h, _) = self.l2(h)
        return F.mse_loss(self.dense(h[0]), y)


class W4(nn.Module):  # seq2seq LSTM(32) -> LSTM(32) -> Dense(8, softmax), CE
    B = 32

    def __init__(self):
        super().__init__()
        self.enc = nn.LSTM(10, 32, batch_first=True)
        self.dec = nn.LSTM(8, 32, batch_first=True)
        keras_rnn_init(self.enc, 4, True)
        keras_rnn_init(self.dec, 4, True)
        self.dense = keras_dense(32, 8)

    def data(self, n):
        enc = F.one_hot(torch.randint(0, 10, (n, 20)), 10).float()
        dec = F.one_hot(torch.randint(0, 8, (n, 20)), 8).float()
        tgt = F.one_hot(torch.randint(0, 8, (n, 20)), 8).float()
        return (enc, dec), tgt

    def loss(self, x, y):
        _, state = self.enc(x[0])
        h, _ = self.dec(x[1], state)
        return -(y * F.log_softmax(self.dense(h), -1)).sum(-1).mean()


class W5(nn.Module):  # 8 causal dilated Conv1D(20, 2) + Conv1D(10, 1), MSE
    B = 32

    def __init__(self):
        super().__init__()
        self.dil = [1, 2, 4, 8, 1, 2, 4, 8]
        convs, c = [], 1
        for _ in self.dil:
            convs.append(nn.Conv1d(c, 20, 2))
            c = 20
        self.convs = nn.ModuleList(convs)
        self.out = nn.Conv1d(20, 10, 1)
        for conv, d in zip(self.convs, self.dil):
            conv.dilation = (d,)
        for conv in list(self.convs) + [self.out]:
            # Keras glorot for Conv1D: fan_in = K*Cin, fan_out = K*F, as torch's
            # xavier computes for a [F, Cin, K] weight.
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)

    def data(self, n):
        return torch.randn(n, 256, 1), torch.randn(n, 256, 10)

    def loss(self, x, y):
        h = x.transpose(1, 2)
        for conv, d in zip(self.convs, self.dil):
            h = F.relu(conv(F.pad(h, (d, 0))))
        return F.mse_loss(self.out(h).transpose(1, 2), y)


class CharModel(nn.Module):  # Embedding -> RNN(seq) -> Dense(V) logits, sparse CE
    def __init__(self, cell, emb, units, T):
        super().__init__()
        self.T = T
        self.emb = keras_embedding(65, emb)
        self.rnn = cell(emb, units, batch_first=True)
        keras_rnn_init(self.rnn, 4 if cell is nn.LSTM else 3, cell is nn.LSTM)
        self.dense = keras_dense(units, 65)

    def data(self, n):
        return torch.randint(0, 65, (n, self.T)), torch.randint(0, 65, (n, self.T))

    def loss(self, x, y):
        h, _ = self.rnn(self.emb(x))
        return F.cross_entropy(self.dense(h).reshape(-1, 65), y.reshape(-1))


class W6(CharModel):  # Embedding(65, 8) -> GRU(32, seq) -> Dense(65), T=100
    B = 64

    def __init__(self):
        super().__init__(nn.GRU, 8, 32, 100)


class W7(CharModel):  # Embedding(65, 64) -> LSTM(512, seq) -> Dense(65), T=64
    B = 64

    def __init__(self):
        super().__init__(nn.LSTM, 64, 512, 64)


MODELS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4, "W5": W5, "W6": W6, "W7": W7}


def adam(model):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                            lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


def peak_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def worker(name, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MODELS[name]()
    opt = adam(model)
    B, S = model.B, 8
    x, y = model.data(B * S)

    def batch(i):
        s = slice((i % S) * B, (i % S + 1) * B)
        xb = tuple(t[s] for t in x) if isinstance(x, tuple) else x[s]
        return xb, y[s]

    def step(i):
        xb, yb = batch(i)
        opt.zero_grad(set_to_none=True)
        loss = model.loss(xb, yb)
        loss.backward()
        opt.step()
        return loss

    k = 0
    for _ in range(3):
        step(k)
        k += 1
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "run":
            times = []
            for _ in range(int(cmd[1])):
                t0 = time.perf_counter()
                step(k)
                times.append(time.perf_counter() - t0)
                k += 1
            print(json.dumps(times), flush=True)
        elif cmd[0] == "rss":
            print(peak_rss_kib(), flush=True)
        elif cmd[0] == "quit":
            break


def load_npy(path):
    """A .npy file as a float32 tensor, through tools/seqio (no numpy needed)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
    import seqio
    a = seqio.load_npy(path)
    return torch.tensor(list(a.data), dtype=torch.float32).reshape(a.shape)


def fit(xpath, ypath, epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = load_npy(xpath), load_npy(ypath)
    model = W1()
    opt = adam(model)
    n, B = x.shape[0], W1.B
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, B):
            idx = perm[s:s + B]
            opt.zero_grad(set_to_none=True)
            loss = model.loss(x[idx], y[idx])
            loss.backward()
            opt.step()
    print("final loss %.4f" % float(loss))


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "fit":
        fit(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
