"""Ordinary code must not trip the guards: lazy stdlib imports, namedtuple's frame peek."""

import pytest

from sandbox import run_code

from .conftest import make_ctx

# Each snippet exercises allow-listed modules the way node authors do; the audit hook
# and seccomp would kill a run that lazily imports or peeks at frames unexpectedly.
EVERYDAY_CODE = {
 "namedtuple": "import collections\nP = collections.namedtuple('P', 'x y')\ndef run(ctx):\n    return P(1, 2)._asdict()",
 "random": "import random\ndef run(ctx):\n    r = random.Random(3); xs = list(range(10)); r.shuffle(xs); return [r.sample(xs, 3), random.choice(xs) in xs, random.randint(1,2) in (1,2), random.gauss(0,1) is not None]",
 "functools": "import functools\n@functools.lru_cache(maxsize=None)\ndef fib(n): return n if n < 2 else fib(n-1) + fib(n-2)\ndef deco(f):\n    @functools.wraps(f)\n    def w(*a): return f(*a)\n    return w\n@deco\ndef g(x): return x\n@functools.singledispatch\ndef h(x): return 'any'\n@h.register\ndef _(x: int): return 'int'\ndef run(ctx):\n    return [fib(30), g.__name__, h(1), h('a'), functools.partial(max, 1)(2)]",
 "copy_classes": "import copy\nclass A:\n    def __init__(self): self.x = [1]\nclass B:\n    __slots__ = ('y',)\ndef run(ctx):\n    a = copy.deepcopy(A()); b = B(); b.y = 2; A.z = 3\n    return [a.x, copy.copy(b).y, A.z, type(a).__name__, a.__class__.__name__, isinstance(a, A)]",
 "decimal_ctx": "import decimal\ndef run(ctx):\n    with decimal.localcontext() as c:\n        c.prec = 5\n        return str(decimal.Decimal(1) / decimal.Decimal(7))",
 "strings": "import string, textwrap, re, json, base64, hashlib, fractions\ndef run(ctx):\n    t = string.Template('$a-$b').substitute(a=1, b=2)\n    return [t, textwrap.wrap('a b c d e f', 3), re.findall(r'\\d+', 'a1b22', re.I), json.dumps({'b': [1, {'c': None}]}, indent=2, sort_keys=True), base64.b85encode(b'x').decode(), hashlib.pbkdf2_hmac('sha256', b'p', b's', 10).hex()[:8], str(fractions.Fraction('1/3') + 1), f'{3.14159:.2f}', '{:>5}'.format('x'), 'abc'.encode().decode('latin-1')]",
 "datetime": "import datetime, time\ndef run(ctx):\n    d = datetime.datetime.fromisoformat('2024-05-06T07:08:09+02:00')\n    return [d.astimezone(datetime.timezone.utc).isoformat(), (d + datetime.timedelta(days=40)).strftime('%A %d %B'), time.monotonic() > 0, time.strftime('%Y', time.gmtime(0)), datetime.date(2024,1,1).isocalendar()[1], time.mktime(time.localtime()) > 0]",
 "stats": "import statistics, math, itertools, collections\ndef run(ctx):\n    xs = [1, 2, 2, 3, 4]\n    return [statistics.mean(xs), statistics.stdev(xs), statistics.mode(xs), statistics.quantiles(xs, n=4), math.comb(5, 2), list(itertools.permutations([1,2])), collections.Counter(xs).most_common(1), collections.deque([1,2], maxlen=1)[0], sorted(collections.defaultdict(int, a=1))]",
 "exceptions": "class MyError(Exception):\n    pass\ndef run(ctx):\n    try:\n        raise MyError('x')\n    except MyError as e:\n        msg = str(e)\n    try:\n        {}['k']\n    except KeyError:\n        pass\n    return msg",
 "generators": "def gen(n):\n    for i in range(n):\n        yield i * i\nasync def coro(): return 1\ndef run(ctx):\n    c = coro()\n    try:\n        c.send(None)\n    except StopIteration as s:\n        v = s.value\n    return [sum(gen(10)), v]",
 "enum_like_class_attrs": "import uuid\ndef run(ctx):\n    u = uuid.UUID('12345678123456781234567812345678')\n    return [str(u), u.hex, str(uuid.uuid5(uuid.NAMESPACE_DNS, 'x')), str(uuid.uuid3(uuid.NAMESPACE_DNS, 'x'))]",
 "sort_key_lambda": "def run(ctx):\n    data = [{'n': 'b', 'v': 2}, {'n': 'a', 'v': 1}]\n    return [sorted(data, key=lambda d: d['n']), max(data, key=lambda d: d['v'])['n'], list(map(str, [1])), dict(zip('ab', [1, 2])), {**{'a': 1}}, [*range(3)]]",
 "print_many": "def run(ctx):\n    for i in range(1000):\n        print(i)\n    return 1",
 "eval_exec": "def run(ctx):\n    ns = {}\n    exec('y = 2 * 3', ns)\n    return [eval('1 + 1'), ns['y']]",
 "global_nonlocal": "COUNT = 0\ndef run(ctx):\n    global COUNT\n    COUNT += 1\n    def inner():\n        nonlocal_x = 1\n        return nonlocal_x\n    return [COUNT, inner(), run.__name__, (lambda: 0).__name__]",
}


@pytest.mark.parametrize("name", sorted(EVERYDAY_CODE))
def test_everyday_code_runs(name):
    result = run_code(EVERYDAY_CODE[name], make_ctx())
    assert result.ok, result.error
