#!/usr/bin/env python3
"""Writes expected.json: what textstat 0.7.4 and Pyphen 0.15.0 compute for the texts and words below.

Not run by the tests: they read expected.json. Run it again after changing the texts:

    PYTHONPATH=/tmp/tsB python3 tests/Fixtures/textstat/generate.py

where /tmp/tsB holds the two packages' sources (pure Python):
    git -C <textstat clone> archive 0.7.4 textstat | tar x -C /tmp/tsB
    git -C <Pyphen clone> archive 0.15.0 pyphen | tar x -C /tmp/tsB
(textstat 0.7.4 also imports setuptools' pkg_resources, for word lists these functions do not use).

textstat 0.7.3 and 0.7.4 compute flesch_kincaid_grade, automated_readability_index, sentence_count, lexicon_count,
char_count and syllable_count with the same code (0.7.4 added Hungarian and changed flesch_reading_ease's layout only);
0.7.5 (February 2025) counts syllables with cmudict first. Pyphen 0.14.0 to 0.18.1 ship the same hyph_en_US.dic and
the same positions() algorithm.
"""
import json
import os
import pathlib
import re
import sys
import warnings

import pyphen
import textstat

warnings.simplefilter("ignore")

TEXTS = [
    "The cat sat on the mat. It was a sunny day. We all went to the park.",
    "Comprehensive evaluation methodologies facilitate reproducible experimentation.",
    "",
    "Hello",
    "   \t\n ",
    "Hello world",
    "Dr. Smith arrived at 5 p.m. yesterday. He was late!",
    "Is this right? Yes! It certainly is... probably.",
    "what about lowercase starts. they count too. every single one of them.",
    "The price rose 3.5% to $12.40 in Q3 2024, e.g. from 11.98 to 12.40.",
    "I love this \U0001F600! The team shipped \U0001F680\U0001F680 three features today.",
    "Family: \U0001F468\u200D\U0001F469\u200D\U0001F467 went hiking. Flags \U0001F1EB\U0001F1F7 and \U0001F1E9\U0001F1EA fly high above.",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 co\u00f6perate fa\u00e7ade \u00e9lan.",
    "Cafe\u0301 nai\u0308ve re\u0301sume\u0301 are common loanwords in English texts.",
    "Stra\u00dfe und \u00dcbergr\u00f6\u00dfentr\u00e4ger sind deutsche W\u00f6rter, nicht wahr?",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? \u0412\u0441\u0451 \u0445\u043e\u0440\u043e\u0448\u043e, \u0441\u043f\u0430\u0441\u0438\u0431\u043e \u0431\u043e\u043b\u044c\u0448\u043e\u0435.",
    "\u6771\u4eac\u306f\u65e5\u672c\u306e\u9996\u90fd\u3067\u3059\u3002\u4eba\u53e3\u306f\u975e\u5e38\u306b\u591a\u3044\u3067\u3059\u3002",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e \u092c\u0939\u0941\u0924 \u0938\u0941\u0902\u0926\u0930 \u0939\u0948\u0964 \u092f\u0939 \u092d\u093e\u0930\u0924 \u092e\u0947\u0902 \u092c\u094b\u0932\u0940 \u091c\u093e\u0924\u0940 \u0939\u0948\u0964",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645. \u0647\u0630\u0647 \u062c\u0645\u0644\u0629 \u0639\u0631\u0628\u064a\u0629 \u0642\u0635\u064a\u0631\u0629.",
    "\u0130stanbul is a big city. \u212aELVIN uses the Kelvin sign for its first letter.",
    "x\u00b2 + y\u00b2 = z\u00b2, and \u00bd of \u216b is \u2165 in Roman numerals.",
    "snake_case_names and __dunder__ methods are Pythonic, aren't they?",
    "Well\u2014this is odd\u2026 isn\u2019t it? \u201cQuoted text\u201d here, \u2018single\u2019 there.",
    "First line without period\nSecond line here\n\nThird paragraph is longer than the others.",
    "alpha\tbeta\u001cgamma\u001fdelta epsilon zeta.",
    "Ten\u00a0thousand people attended the\u2003event in\u3000town.",
    "U.S.A. is a country. The U.K. is another one.",
    "Wait... what?! No way!!! Really?? Yes.",
    "a. b. c. d. e.",
    "One two. Three four. Five six seven. Eight.",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis.",
    "The quick brown fox jumps over the lazy dog.",
    "Readability formulas estimate how hard a passage is to understand. They combine the average length of "
    "sentences with the average length of words, measured in syllables or characters. Short sentences built from "
    "familiar words score low; long sentences packed with technical vocabulary score high. None of them reads for "
    "meaning, so a nonsensical text can still look easy, and a clear explanation of a difficult idea can look hard.",
    "Version 2.12.2 of the library was released in 2024. It supports Python 3.8+.",
    "e-mail, well-known, state-of-the-art and mother-in-law are hyphenated words.",
    "Don't, won't, can't, shouldn't've, y'all and o'clock are contractions.",
    "ALL CAPS SENTENCES SHOUT AT THE READER. THEY ARE HARD TO READ.",
    "MiXeD CaSe WoRdS lIkE iPhone AND eBay APPEAR OFTEN.",
    "1 2 3 4 5 6 7 8 9 10.",
    "!!! ??? ... ,,, ;;;",
    "https://example.org/docs/latest/index.html is the documentation URL, and user@example.com an address.",
    "Code like foo(bar, baz) -> qux[0] or x == y != z appears in answers.",
    "(Parenthetical sentence.) [Bracketed one!] {Braced?} Final words come here.",
    "Line one is here.\r\nLine two is here.\r\nLine three ends it.",
    "The \ufb01nal \ufb02ight was o\ufb00 schedule and a\ufb03rmed by the sta\ufb00.",
    "\U0001D401\U0001D428\U0001D425\U0001D41D \U0001D42D\U0001D41E\U0001D431\U0001D42D looks fancy in the title.",
    "\U00010414\U0001042F\U00010445\U00010428\U00010449\U0001042F\U0001043B is an alphabet for English.",
    "\u039f\u0394\u039f\u03a3 \u03a3\u0391\u03a3. \u0397 \u03b3\u03bb\u03ce\u03c3\u03c3\u03b1 \u03b5\u03af\u03bd\u03b1\u03b9 \u03cc\u03bc\u03bf\u03c1\u03c6\u03b7.",
    "Zero-width\u200bspace and soft\u00adhyphen appear rarely in generated answers.",
    "Tracking servers store parameters, metrics and artifacts for every run. A model registry keeps versions and "
    "aliases, so a deployment can follow the champion without editing code.",
    "Steps:\n- Install the package\n- Configure the tracking URI\n- Log your first run\nDone.",
    "Go. Stop. Run fast now. Wait here please.",
    "About 1,234,567 users joined; 98.6% stayed.",
    "Why?",
    "\U0001F600\U0001F600\U0001F600 \U0001F389",
    "and then there were none",
    "It\u2019s the writer\u2019s choice, isn\u2019t it?",
    "Rhythm, table, make, free, sunny, beautiful, queue, area, idea, poem, create, every, business, fire.",
    "The mitochondria is the powerhouse of the cell! Photosynthesis converts light energy into chemical energy?",
    "He said \"stop.\" Then he left. 'Really?' she asked.",
    "Numbers like 3.14159 and 2.71828 are irrational. So is 1.41421.",
    "A sentence with a very long list of items: apples, bananas, cherries, dates, elderberries, figs, grapes, "
    "honeydew melons, kiwis, lemons, mangoes, nectarines, oranges, papayas, quinces and raspberries.",
    "i.e. this starts with an abbreviation. etc. follows here. vs. that one.",
    "Tab\tseparated\tvalues\tare\tnot\tsentences",
    "\u00c9cole fran\u00e7aise, \u0153uvre d\u2019art, \u00e6sthetics, Bj\u00f6rk, S\u00f8ren, \u0141\u00f3d\u017a and \u0130zmir.",
]

EXTRA_WORDS = [
    "table", "make", "the", "rhythm", "free", "sunny", "methodologies", "hyphenation", "comprehensive",
    "evaluation", "facilitate", "reproducible", "experimentation", "beautiful", "queue", "area", "idea", "poem",
    "create", "every", "business", "fire", "associate", "associates", "declination", "obligatory", "philanthropic",
    "present", "presents", "project", "projects", "reciprocity", "recognizance", "reformation", "retribution",
    "table", "a", "an", "i", "ab", "abc", "abcd", "x", "12345", "2024", "\u00b2", "\u00bd", "_", "__init__",
    "snake_case", "caf\u00e9", "na\u00efve", "stra\u00dfe", "\u00fcbergr\u00f6\u00dfentr\u00e4ger", "\u043f\u0440\u0438\u0432\u0435\u0442",
    "\ufb01nal", "\ufb02ight", "o\ufb00", "a\ufb03rmed", "sta\ufb00", "\ufb02ylea\ufb00", "selffish", "sel\ufb00ish",
    "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis", "floccinaucinihilipilification", "mlflow", "textstat",
    "pyphen", "readability", "tokenization", "kubernetes", "javascript", "postgresql", "hyperparameter",
    "i\u0307stanbul", "\u212aelvin", "\U0001D401\U0001D428\U0001D425\U0001D41D", "\U0001043C\U00010457\U00010445",
]


def words_for_syllables():
    """The texts' words, the words above, and every word of Python's own pydoc topics (an English word list)."""
    found = set(EXTRA_WORDS)
    for text in TEXTS:
        found.update(textstat.remove_punctuation(text.lower()).split())
    try:
        import pydoc_data.topics as topics

        for value in topics.topics.values():
            found.update(w.lower() for w in re.findall(r"[A-Za-z]+", value))
    except ImportError:
        pass
    return sorted(found)


# A small dictionary in the same format, to pin how Pyphen reads one: the encoding line, the ignored HYPHENMIN lines
# and comments, surrounding whitespace, ^^hh escapes, patterns of zeros only (dropped, even after one with the same
# letters), a later pattern with the same letters (replaces the earlier), a non-standard pattern (read by its part
# before the '/'), a two-digit run, a non-ASCII letter and patterns at the word's edges.
SYNTHETIC_DIC = "\n".join([
    "UTF-8",
    "LEFTHYPHENMIN 1",
    "RIGHTHYPHENMIN 1",
    "% a comment",
    "# another",
    "   1ba\t",
    "a1b",
    "a3b",
    "b0c0",
    "g1h",
    "g0h",
    ".ab4c",
    "^^e91t",
    "ff1f/f=f,1,1",
    "c5",
    "x12y",
    "\u00fc3n",
    "2d.",
    "",
])
SYNTHETIC_WORDS = [
    "abc", "ab", "bab", "abab", "cabbage", "\u00e9t\u00e9", "ffff", "staff", "xy", "axyb", "\u00fcn\u00fcn",
    "dd", "odd", "c", "ccc", "ABC", "a", "", "agha", "ghgh",
]


def synthetic(tmp_dir):
    path = os.path.join(tmp_dir, "hyph_test.dic")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(SYNTHETIC_DIC)
    result = {"dic": SYNTHETIC_DIC, "words": []}
    for left, right in [(2, 2), (1, 1), (0, 0)]:
        h = pyphen.Pyphen(filename=pathlib.Path(path), left=left, right=right, cache=False)  # 0.15.0 wants a Path
        for w in SYNTHETIC_WORDS:
            result["words"].append([w, left, right, list(h.positions(w))])
    return result


def main():
    hyphenator = pyphen.Pyphen(lang="en_US")
    out = {
        "generator": "tests/Fixtures/textstat/generate.py",
        "textstat": "0.7.4",  # the tag the sources come from (its __init__ still says 0.7.2)
        "pyphen": pyphen.VERSION,
        "python": sys.version.split()[0],
        "pyphen_left_right": [hyphenator.left, hyphenator.right],
        "texts": [
            {
                "text": text,
                "flesch_kincaid_grade": textstat.flesch_kincaid_grade(text),
                "automated_readability_index": textstat.automated_readability_index(text),
                "sentence_count": textstat.sentence_count(text),
                "lexicon_count": textstat.lexicon_count(text),
                "char_count": textstat.char_count(text),
                "syllable_count": textstat.syllable_count(text),
            }
            for text in TEXTS
        ],
    }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp_dir:
        out["synthetic"] = synthetic(tmp_dir)
    # one line per word: [word, Pyphen's positions(word), textstat's syllable_count(word)]
    words = [[w, list(hyphenator.positions(w)), textstat.syllable_count(w)] for w in words_for_syllables()]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        head = json.dumps(out, ensure_ascii=True, indent=1)
        f.write(head[:-2] + ',\n "words": [\n')
        f.write(",\n".join("  " + json.dumps(w, ensure_ascii=True) for w in words))
        f.write("\n ]\n}\n")
    print(f"{len(out['texts'])} texts, {len(words)} words -> {path}")


if __name__ == "__main__":
    main()
