"""kube/kube_yaml.c against PyYAML as an oracle (tests/yaml/yaml_diff.py).

The C parser must give PyYAML's tree (plain scalars kept as text, YAML 1.1
nulls and booleans typed, as client-go's string fields see them) on every
input both accept, and may never accept what PyYAML refuses. It may refuse
on purpose (anchors, tags, block scalars, NUL escapes, ...): the test also
checks that it does so on exactly those constructs.
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
YAML_DIR = os.path.join(HERE, "..", "yaml")
CORPUS = os.path.join(YAML_DIR, "corpus")
FUZZ_CORPUS = os.path.join(HERE, "..", "fuzz", "corpus", "fuzz_kubeconfig")
sys.path.insert(0, YAML_DIR)

import yaml_diff  # noqa: E402

TOKENS = [b" ", b"\n", b"  ", b"   ", b"- ", b": ", b":", b"#", b" #", b'"',
          b"'", b"{", b"}", b"[", b"]", b",", b", ", b"\\", b"a", b"b c",
          b"\n  ", b"\n- ", b"\n    ", b"yes", b"~", b"---\n", b"...\n",
          b"-", b"?", b"\r\n", b'\\"', b"''", b"x: y", b"{a: b}", b"[c]",
          b"\n\n", b"\\n", b"\\u00e9", b"\\x4", b'"q: r"', b":x", b"-x",
          b"\t", b"&", b"*", b"!", b"|", b">"]


def mutants(out_dir, n, seed):
    """Deterministic mutations of the corpus: the YAML-significant tokens
    inserted, bytes deleted or replaced."""
    rnd = random.Random(seed)
    src = [open(os.path.join(CORPUS, f), "rb").read()
           for f in sorted(os.listdir(CORPUS))]
    for i in range(n):
        d = bytearray(rnd.choice(src))
        for _ in range(rnd.randint(1, 8)):
            op, pos = rnd.random(), rnd.randint(0, len(d))
            if op < 0.6:
                d[pos:pos] = rnd.choice(TOKENS)
            elif op < 0.85 and d:
                del d[pos:pos + rnd.randint(1, 5)]
            elif d:
                d[min(pos, len(d) - 1)] = rnd.randint(32, 126)
        with open(os.path.join(out_dir, "%05d" % i), "wb") as f:
            f.write(bytes(d))


def test_corpus_matches_pyyaml(prog_bin):
    counts, report = yaml_diff.compare(prog_bin("prog_yaml"), [CORPUS])
    assert report == []
    assert counts["MISMATCH"] == 0
    # every kubeconfig-shaped file of the corpus is read, not refused
    assert counts["same"] >= 40, counts


def test_refusals_are_the_documented_ones(prog_bin):
    prog = prog_bin("prog_yaml")
    paths = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS))
    allowed = ("anchors", "tags", "block scalars", "complex keys",
               "escaped NUL", "nested deeper", "must follow a space",
               "is not allowed (control")
    for path, c in zip(paths, yaml_diff.c_results(prog, paths)):
        want = yaml_diff.oracle(open(path, "rb").read())
        if "error" in c and want[0] == "ok":
            assert any(a in c["error"] for a in allowed), (path, c)
            assert c["error"].startswith("line "), c


def test_mutations_match_pyyaml(prog_bin, tmp_path):
    mutants(str(tmp_path), 4000, 12)
    counts, report = yaml_diff.compare(prog_bin("prog_yaml"), [str(tmp_path)])
    assert report == [], "\n".join(report[:20])
    # the mutations exercise both answers, not only errors
    assert counts["same"] > 500 and counts["both-err"] > 500, counts


def test_fuzz_corpus_matches_pyyaml(prog_bin):
    """The libFuzzer corpus of fuzz_kubeconfig (make fuzz) when present;
    otherwise the checked-in seeds, which make fuzz starts from."""
    dirs = [CORPUS]
    if os.path.isdir(FUZZ_CORPUS):
        dirs.append(FUZZ_CORPUS)
    counts, report = yaml_diff.compare(prog_bin("prog_yaml"), dirs)
    assert report == [], "\n".join(report[:20])
