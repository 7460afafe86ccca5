#!/usr/bin/python3
"""Differential check of kube/kube_yaml.c against PyYAML (Debian's
python3-yaml), used as an oracle in tests only.

    yaml_diff.py PROG_YAML FILE_OR_DIR...

Every input goes through both parsers. The oracle resolves plain scalars
the way a kubeconfig's string fields see them: null and booleans are typed
(YAML 1.1, as go-yaml v2), everything else stays text (sigs.k8s.io/yaml
keeps a string field's text). Verdicts per input:

  same      both accept and the trees are equal
  refused   the C parser refuses what the oracle accepts: allowed (anchors,
            tags, block scalars, NUL escapes ... are refused on purpose)
  both-err  both refuse
  MISMATCH  the C parser accepts and the oracle refuses, or the trees differ

Exits 1 when any input is a MISMATCH; prints one line per mismatch and a
summary. An empty document is an empty mapping in C (kubectl's answer for
an empty kubeconfig) and None in the oracle: equal.
"""
import json
import os
import subprocess
import sys

import yaml


class Oracle(yaml.SafeLoader):
    pass


Oracle.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag in ('tag:yaml.org,2002:null', 'tag:yaml.org,2002:bool')]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def norm(v):
    """Keys as client-go's sigs.k8s.io/yaml makes them (bools -> text)."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if isinstance(k, bool):
                k = 'true' if k else 'false'
            if not isinstance(k, str):
                raise ValueError('non-string key %r' % (k,))
            out[k] = norm(x)
        return out
    if isinstance(v, list):
        return [norm(x) for x in v]
    if v is None or isinstance(v, (bool, str)):
        return v
    raise ValueError('unexpected type %r' % type(v))


def oracle(data):
    try:
        doc = yaml.load(data, Loader=Oracle)
    except yaml.YAMLError as e:
        return ('error', str(e).replace('\n', ' '))
    except Exception as e:  # PyYAML's own limits (e.g. \UFFFFFFFF)
        return ('error', '%s: %s' % (type(e).__name__, e))
    try:
        return ('ok', {} if doc is None else norm(doc))
    except (ValueError, RecursionError) as e:
        return ('error', str(e))


def json_oracle(data):
    """The C parser reads top-level JSON with the JSON parser (tabs are
    JSON whitespace); such inputs are compared with Python's json."""
    try:
        doc = json.loads(data.decode('utf-8'),
                         parse_float=str, parse_int=str)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return ('ok', doc)


def files(args):
    for a in args:
        if os.path.isdir(a):
            for name in sorted(os.listdir(a)):
                p = os.path.join(a, name)
                if os.path.isfile(p):
                    yield p
        else:
            yield a


def c_results(prog, paths):
    out = []
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        res = subprocess.run([prog] + chunk, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             timeout=600)
        if res.returncode:
            sys.exit("%s failed on %s..%s: %s" % (prog, chunk[0], chunk[-1],
                     res.stderr.decode(errors="replace")[-2000:]))
        lines = res.stdout.decode().split('\n')[:-1]
        assert len(lines) == len(chunk), (len(lines), len(chunk))
        out += [json.loads(l) for l in lines]
    return out


def compare(prog, args):
    paths = list(files(args))
    counts = {'same': 0, 'refused': 0, 'both-err': 0, 'MISMATCH': 0}
    report = []
    for path, c in zip(paths, c_results(prog, paths)):
        with open(path, 'rb') as f:
            data = f.read()
        want = oracle(data)
        if 'ok' in c and want[0] == 'error':
            want = json_oracle(data) or want
        if 'ok' in c and want[0] == 'ok' and c['ok'] == want[1]:
            verdict = 'same'
        elif 'error' in c:
            verdict = 'refused' if want[0] == 'ok' else 'both-err'
        else:
            verdict = 'MISMATCH'
            report.append('%s: C %s, PyYAML %s' % (
                path, json.dumps(c)[:300], json.dumps(list(want))[:300]))
        counts[verdict] += 1
    return counts, report


def main():
    counts, report = compare(sys.argv[1], sys.argv[2:])
    for line in report:
        print('MISMATCH', line)
    print(' '.join('%s=%d' % kv for kv in counts.items()))
    return 1 if counts['MISMATCH'] else 0


if __name__ == '__main__':
    sys.exit(main())
