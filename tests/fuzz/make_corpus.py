#!/usr/bin/python3
"""Generate the fuzz corpus of job files (tests/fuzz/corpus) from the
example jobs: truncations, type swaps, extreme numbers, aliases, huge lists,
byte damage and YAML features the reader does not expect. Deterministic:
the same script writes the same files. `ctest -R fuzz_jobs` runs the reader
over every file (tests/fuzz/run_corpus.py); add every job that ever crashed
headspec to tests/fuzz/corpus/crash_*.yaml by hand (this script keeps them).

    tests/fuzz/make_corpus.py            # rewrite the generated files
    tests/fuzz/make_corpus.py --rounds 20 --out /tmp/campaign
                                         # a larger campaign: 20 rounds of
                                         # mutations with other random draws
"""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")
SEEDS = ["jobs/demo.yaml", "jobs/agreement.yaml", "jobs/pruning.yaml",
         "tests/jobs/tiny.yaml", "tests/jobs/starts.yaml"]

# Values that stress the number reader and the ranges.
EXTREME = ["1e308", "-1e308", "1e999", "-1e999", "1e-320", "-4.9e-324", "0", "-0",
           "nan", "NaN", ".nan", "inf", "-inf", ".inf", "-.inf", "0x7fffffff",
           "0x1p-1074", "2147483647", "2147483648", "-2147483649",
           "4294967296", "9223372036854775807", "18446744073709551616",
           "1" + "0" * 400, "0." + "0" * 400 + "1", "1e", "1e+", "--1", "+1",
           "1_000", "0o17", "1.5", "3.", ".5", "1e-12", "1e9", "1e10", "-1",
           "true", "false", "yes", "null", "~", "''", '""', "' 1'", '"\\0"',
           '"1\\x00"', "!!str 5", "!!float 1", "!!int 2", "!custom 3", "&a 1"]
# Other shapes for a scalar value.
SHAPES = ["[]", "{}", "[1, 2]", "[[1, 2], [3]]", "{a: 1}", "[[[]]]",
          "[softmax, softmax]", "[1, [2]]", "|\n  block\n", ">-\n  folded\n",
          "[" + ", ".join(str(i) for i in range(2000)) + "]",
          "[" + ", ".join(["[1, 2]"] * 1000) + "]"]


def seed_texts():
    return [(os.path.splitext(os.path.basename(p))[0],
             open(os.path.join(ROOT, p), encoding="utf-8").read()) for p in SEEDS]


def value_lines(text):
    """Indices of lines of the form `key: value` (block or flow)."""
    lines = text.split("\n")
    return lines, [i for i, l in enumerate(lines) if re.match(r"^\s*[A-Za-z_0-9]+:\s*\S", l)
                   and not l.lstrip().startswith("#")]


def set_value(line, value):
    key = line.split(":", 1)[0]
    return key + ": " + value


def mutations(name, text, rng):
    lines, vals = value_lines(text)
    data = text.encode()
    # truncations: at lines and at random bytes (mid-token, mid-flow)
    for n in sorted(rng.sample(range(1, len(lines)), min(6, len(lines) - 1))):
        yield f"trunc_line{n}", "\n".join(lines[:n]) + "\n"
    for n in sorted(rng.sample(range(1, len(data)), 8)):
        yield f"trunc_byte{n}", data[:n]
    # type swaps and extreme numbers on random value lines
    for j, v in enumerate(rng.sample(SHAPES, 6)):
        i = rng.choice(vals)
        new = list(lines)
        new[i] = set_value(new[i], v)
        yield f"shape{j}", "\n".join(new)
    for j, v in enumerate(rng.sample(EXTREME, 14)):
        i = rng.choice(vals)
        new = list(lines)
        new[i] = set_value(new[i], v)
        yield f"num{j}", "\n".join(new)
    # deleted, duplicated, re-indented and tab-indented lines
    for j in range(3):
        i = rng.randrange(len(lines))
        yield f"del{j}", "\n".join(lines[:i] + lines[i + 1:])
        yield f"dup{j}", "\n".join(lines[:i + 1] + lines[i:])
        new = list(lines)
        new[i] = " " * rng.choice([1, 3, 8]) + new[i]
        yield f"indent{j}", "\n".join(new)
    i = rng.randrange(len(lines))
    yield "tab", "\n".join(lines[:i] + ["\t" + lines[i]] + lines[i + 1:])
    # byte damage
    for j in range(5):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        yield f"flip{j}", bytes(b)
    # whole-file transformations
    yield "crlf", text.replace("\n", "\r\n")
    yield "bom", "\ufeff" + text
    yield "two_docs", text + "\n---\n" + text
    yield "doc_end", "---\n" + text + "\n...\n"
    yield "directive", "%YAML 1.1\n---\n" + text
    yield "bad_directive", "%YAML 9.9\n%TAG ! tag:x,2000:\n---\n" + text
    yield "nul_byte", text[: len(text) // 2] + "\0" + text[len(text) // 2:]
    yield "latin1", data.replace(b"a", b"\xe9", 3)
    yield "flow", "{" + ", ".join(l.strip() for l in lines
                                  if re.match(r"^[a-z_]+: \S", l)) + "}"
    # aliases and anchors on real values
    if vals:
        i, k = rng.sample(vals, 2)
        new = list(lines)
        key, value = new[i].split(":", 1)
        new[i] = key + ": &v " + value.strip()
        new[k] = set_value(new[k], "*v")
        yield "alias_value", "\n".join(new)
        new = list(lines)
        new[k] = set_value(new[k], "*nowhere")
        yield "alias_unknown", "\n".join(new)


def fixed():
    """Hand-written edge cases that apply to no particular seed."""
    head = "output: x.h5\n"
    model = "model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2}\n"
    train = "training: {d: 100, eta: 0.5, t_max: 1}\n"
    yield "empty", ""
    yield "only_comment", "# nothing\n"
    yield "only_doc_marker", "---\n"
    yield "null_doc", "~\n"
    yield "scalar_doc", "just a string\n"
    yield "list_doc", "- a\n- b\n"
    yield "deep_nesting", head + "model: " + "[" * 200 + "]" * 200 + "\n"
    yield "deep_mapping", head + "model: " + "{a: " * 100 + "1" + "}" * 100 + "\n"
    yield "long_name", head + model.replace("softmax", "s" * 20000) + train
    yield "long_key", head + "model: {" + "k" * 20000 + ": 1}\n"
    yield "long_output", "output: " + "o" * 20000 + "\n" + model + train
    yield "many_keys", head + "model:\n" + "".join(f"  k{i}: {i}\n" for i in range(5000))
    yield "huge_sweep", head + model.replace("H: 2", "H: [" + ", ".join(
        str(1 + i % 1024) for i in range(5000)) + "]") + train
    yield "big_grid", head + model.replace("H: 2", "H: [" + ", ".join(
        str(1 + i % 64) for i in range(1000)) + "]").replace(
        "b1: 1", "b1: [" + ", ".join(str(i) for i in range(1000)) + "]") + train
    yield "self_alias", head + "model: &m {distribution: *m}\n" + train
    yield "recursive_list", head + "model: &m [*m]\n" + train
    laughs = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    yield "billion_laughs", laughs + head + model + train
    yield "laughs_in_key", head + model.replace(
        "H: 2", "H: &h [1, 2]") + "training: {d: 100, eta: 0.5, t_max: 1, records: *h}\n"
    yield "alias_as_key", head + model.replace("b1: 1", "&k b1: 1, *k : 2") + train
    yield "alias_to_section", head + "m: &m {H: 2}\n" + model + train
    yield "alias_section", head + "model: &m {distribution: flipping, b1: 1, b2: 2, " \
        "activation: softmax, H: 2}\ntraining: *m\n"
    yield "merge_key", head + model + "training:\n  <<: {d: 100, eta: 0.5}\n  t_max: 1\n"
    yield "tagged", head + model.replace("H: 2", "H: !!str 2") + train
    yield "binary_tag", head + model.replace("H: 2", "H: !!binary AAAA") + train
    yield "complex_key", head + "? [a, b]\n: 1\n" + model + train
    yield "null_key", head + model.replace("H: 2", "~: 2") + train
    yield "empty_key", head + model.replace("H: 2", "'': 2") + train
    yield "quoted_nul_key", head + model.replace("H: 2", '"H\\0": 2') + train
    yield "utf8_name", head + model.replace("softmax", "sóftmax") + train
    yield "escapes", head + model.replace("softmax", '"soft\\tmax"') + train
    yield "dup_key_flow", head + model.replace("H: 2", "H: 2, H: 3") + train
    yield "dup_section", head + model + model + train
    yield "matrix_ragged", head + "model: {distribution: discrete, atoms: [[1], [1, 2, 3]], " \
        "probs: [0.5, 0.5], activation: softmax, H: 2}\n" + train
    yield "matrix_deep", head + "model: {distribution: discrete, atoms: [[[1]], [[2]]], " \
        "probs: [0.5, 0.5], activation: softmax, H: 2}\n" + train
    yield "matrix_huge", head + "model: {distribution: discrete, atoms: [" + ", ".join(
        ["[1, 0]"] * 5000) + "], probs: [1], activation: softmax, H: 2}\n" + train
    yield "probs_alias_row", head + "row: &r [1, 0]\nmodel: {distribution: discrete, " \
        "atoms: [*r, *r], probs: [0.5, 0.5], activation: softmax, H: 2}\n" + train
    yield "given_start_bad", head + model + train + \
        "ode: {start: given, start_m: [[1e308, 1e308], [0, 0]], start_Q: [[1, 0], [0, 1]]}\n"
    yield "given_start_nan", head + model + train + \
        "ode: {start: given, start_m: [[.nan, 0], [0, 0]], start_Q: [[1, 0], [0, 1]]}\n"
    yield "limits_all", head + "model: {distribution: onehot, beta: 1e6, K: 1024, " \
        "activation: softmax, H: 1024, L: 100000, sigma0: 1e3}\n" \
        "training: {d: 100000000, eta: 1e-12, t_max: 1e9, B: 1000000}\n"
    yield "steps_edge", head + model + "training: {d: 1048576, eta: 1, t_max: 8589934592}\n"
    yield "fail_point_huge", head + model + train + "testing: {fail_point: 1e9}\n"
    yield "job_seed_huge", "job_seed: 1e300\n" + head + model + train
    yield "job_seed_neg", "job_seed: -1\n" + head + model + train


def write(path, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(content)


def main():
    args = sys.argv[1:]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 1
    out = args[args.index("--out") + 1] if "--out" in args else OUT
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".yaml") and not f.startswith("crash_"):
            os.remove(os.path.join(out, f))
    n = 0
    for r in range(rounds):
        suffix = f"_r{r}" if r else ""
        for name, text in seed_texts():
            # per seed: adding a seed changes no other file
            rng = random.Random(name + suffix)
            if not r:
                write(os.path.join(out, f"{name}.yaml"), text)
                n += 1
            for tag, content in mutations(name, text, rng):
                write(os.path.join(out, f"{name}{suffix}_{tag}.yaml"), content)
                n += 1
    for tag, content in fixed():
        write(os.path.join(out, f"edge_{tag}.yaml"), content)
        n += 1
    print(f"{n} job files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
