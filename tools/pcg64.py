"""pcg64: numpy.random.default_rng(seed)'s streams in the standard library.

The example data scripts draw from `Generator(seed)` so that, with or
without numpy, they make the same data sets numpy's default generator made
(PCG64 seeded through SeedSequence; `integers` by Lemire's method on 32-bit
draws, bit for bit; `standard_normal` by numpy's 256-layer ziggurat, see
_ziggurat_tables).

    >>> g = Generator(0)
    >>> g.integers(0, 10, 5)
    [8, 6, 5, 2, 3]
    >>> [round(v, 6) for v in Generator(0).standard_normal(3)]
    [0.12573, -0.132105, 0.640423]
"""
import decimal
import math

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_M128 = (1 << 128) - 1
_PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645


def _seed_pool(seed):
    """SeedSequence(seed).pool: the seed's 32-bit words hashed into 4 words."""
    if seed < 0:
        raise ValueError("seed must be non-negative")
    words = []
    while True:
        words.append(seed & _M32)
        seed >>= 32
        if not seed:
            break
    hash_const = [0x43B0D7E5]

    def hashmix(value):
        value = (value ^ hash_const[0]) & _M32
        hash_const[0] = (hash_const[0] * 0x931E8875) & _M32
        value = (value * hash_const[0]) & _M32
        return value ^ (value >> 16)

    def mix(x, y):
        r = (0xCA01F9DD * x - 0x4973F715 * y) & _M32
        return r ^ (r >> 16)

    pool = [hashmix(words[i] if i < len(words) else 0) for i in range(4)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(4, len(words)):
        for dst in range(4):
            pool[dst] = mix(pool[dst], hashmix(words[src]))
    return pool


def _generate_state(pool, n_words):
    """SeedSequence.generate_state(n_words, uint32)."""
    hash_const, out = 0x8B51F9DD, []
    for i in range(n_words):
        v = (pool[i % len(pool)] ^ hash_const) & _M32
        hash_const = (hash_const * 0x58F38DED) & _M32
        v = (v * hash_const) & _M32
        out.append(v ^ (v >> 16))
    return out


def _ziggurat_tables():
    """The tables of numpy's normal ziggurat (Marsaglia and Tsang, 256 layers
    of area v = r f(r) + sqrt(pi/2) erfc(r/sqrt(2)), r = 3.6541528853610088):
    ki (integer acceptance bounds), wi (layer widths / 2^52) and fi (the
    density at each layer's edge), computed in 40-digit decimals. numpy's own
    tables were rounded differently, so a draw may differ from numpy's in the
    last bits of its double (at most 2e-14 relative); the float32 data the
    scripts write is the same bit for bit."""
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        half, two52 = decimal.Decimal("-0.5"), decimal.Decimal(2) ** 52
        v = decimal.Decimal("0.0049286732339746548702000665144205049")
        dn = tn = decimal.Decimal(_NOR_R)
        ki, wi, fi = [0] * 256, [0] * 256, [0] * 256
        fi[255] = (half * dn * dn).exp()
        q = v / fi[255]
        ki[0], wi[0], wi[255], fi[0] = int(dn / q * two52), q / two52, dn / two52, 1
        for i in range(254, 0, -1):
            dn = (-2 * (v / dn + fi[i + 1]).ln()).sqrt()
            ki[i + 1] = int(dn / tn * two52)
            tn = dn
            fi[i] = (half * dn * dn).exp()
            wi[i] = dn / two52
        return ki, [float(w) for w in wi], [float(f) for f in fi]


_NOR_R = 3.6541528853610088
_NOR_INV_R = 0.27366123732975828
_TABLES = []   # made on first use: (ki, wi, fi)


class Generator:
    """The draws of numpy.random.default_rng(seed) that the data scripts use."""

    def __init__(self, seed):
        s = _generate_state(_seed_pool(seed), 8)
        # generate_state(4, uint64) pairs the words little-end first.
        w = [s[2 * i] | (s[2 * i + 1] << 32) for i in range(4)]
        initstate, initseq = (w[0] << 64) | w[1], (w[2] << 64) | w[3]
        self._inc = ((initseq << 1) | 1) & _M128
        self._state = 0
        self._step()
        self._state = (self._state + initstate) & _M128
        self._step()
        self._half = None   # the upper half of the last 64-bit draw, not yet used

    def _step(self):
        self._state = (self._state * _PCG_MULT + self._inc) & _M128

    def next_uint64(self):
        """PCG64's XSL-RR output of the advanced state."""
        self._step()
        s = self._state
        x, rot = ((s >> 64) ^ s) & _M64, s >> 122
        return ((x >> rot) | (x << (64 - rot))) & _M64

    def next_uint32(self):
        if self._half is not None:
            v, self._half = self._half, None
            return v
        v = self.next_uint64()
        self._half = v >> 32
        return v & _M32

    def next_double(self):
        return (self.next_uint64() >> 11) * (1.0 / 9007199254740992.0)

    def _bounded(self, rng):
        """A uniform integer in [0, rng] (numpy's bounded Lemire method)."""
        if rng == 0:
            return 0
        if rng == _M32:
            return self.next_uint32()
        if rng > _M32:
            raise ValueError("ranges above 2^32 are not supported")
        excl = rng + 1
        m = self.next_uint32() * excl
        left = m & _M32
        if left < excl:
            threshold = (_M32 - rng) % excl
            while left < threshold:
                m = self.next_uint32() * excl
                left = m & _M32
        return m >> 32

    def integers(self, low, high, size):
        """`size` integers in [low, high), in C order (size may be a tuple)."""
        n = size if isinstance(size, int) else math.prod(size)
        if high <= low:
            raise ValueError("low >= high")
        return [low + self._bounded(high - 1 - low) for _ in range(n)]

    def _normal(self):
        if not _TABLES:
            _TABLES.extend(_ziggurat_tables())
        ki, wi, fi = _TABLES
        while True:
            r = self.next_uint64()
            idx = r & 0xFF
            r >>= 8
            sign = r & 1
            rabs = (r >> 1) & 0x000FFFFFFFFFFFFF
            x = rabs * wi[idx]
            if sign:
                x = -x
            if rabs < ki[idx]:
                return x
            if idx == 0:
                while True:
                    xx = -_NOR_INV_R * math.log1p(-self.next_double())
                    yy = -math.log1p(-self.next_double())
                    if yy + yy > xx * xx:
                        return -(_NOR_R + xx) if (rabs >> 8) & 1 else _NOR_R + xx
            elif (fi[idx - 1] - fi[idx]) * self.next_double() + fi[idx] < math.exp(-0.5 * x * x):
                return x

    def standard_normal(self, n):
        return [self._normal() for _ in range(n)]


if __name__ == "__main__":   # run the examples above: python3 tools/pcg64.py [-v]
    import doctest
    import sys
    sys.exit(doctest.testmod()[0])
