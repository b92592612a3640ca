"""Every exercise of the notebook has its answer beside it: in the markdown of section 9 and of
section 12, each numbered exercise is followed, before the next one, by a collapsible
`<details>` block with a `<summary>` (STYLE.md, "Answers beside exercises")."""

import json
import re

import pytest

NOTEBOOK_NAME = "neural_network_from_scratch.ipynb"
DETAILS = re.compile(r"<details[^>]*>(.*?)</details>", re.DOTALL)
ANSWER = "\0answer\0"                       # what a <details> block is replaced by before the items are found
# An exercise begins a line as "1. " (a Markdown list) or "(1) ", or follows a space as " (1) ".
ITEM = re.compile(r"(?:^[ \t]*(\d{1,2})\.[ \t]|(?:^|[ \t])\((\d{1,2})\)[ \t])", re.MULTILINE)


def section_markdown(repo_root, number):
    """The markdown of section `number`: from its "## N." heading to the next "## " heading."""
    cells = json.loads((repo_root / NOTEBOOK_NAME).read_text(encoding="utf-8"))["cells"]
    texts, inside = [], False
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("## "):
            inside = source.startswith(f"## {number}.")
        if inside and cell["cell_type"] == "markdown":
            texts.append(source)
    assert texts, f"the notebook has no section starting with '## {number}.'"
    return "\n\n".join(texts)


def exercises_with_answers(markdown):
    """[(exercise number, whether a <details> block with a <summary> follows it before the next exercise)]."""
    start = re.search(r"^(?:#+ *|\*\*)Exercises", markdown, re.MULTILINE)
    assert start, "no 'Exercises' heading (a '#' heading or a bold **Exercises**) in the section"
    blocks = DETAILS.findall(markdown[start.start():])
    assert all(re.search(r"<summary[^>]*>.+?</summary>", block, re.DOTALL) for block in blocks), \
        "a <details> block without a <summary>"
    text = DETAILS.sub(ANSWER, markdown[start.start():])    # numbered lines inside an answer are not exercises
    items = list(ITEM.finditer(text))
    ends = [item.start() for item in items[1:]] + [len(text)]
    return [(int(item.group(1) or item.group(2)), ANSWER in text[item.end():end]) for item, end in zip(items, ends)]


@pytest.mark.parametrize("section", [9, 12])
def test_every_exercise_is_followed_by_an_answer_in_a_details_block(repo_root, section):
    exercises = exercises_with_answers(section_markdown(repo_root, section))
    assert [number for number, _ in exercises] == list(range(1, len(exercises) + 1)) and exercises, exercises
    assert [number for number, answered in exercises if not answered] == []


def test_the_exercise_parser_finds_each_answer_and_each_missing_one():
    markdown = ("**Exercises** (in section 1):\n\n1. Set `SHIFT = 0`.\n\n   <details><summary>Answer</summary>\n\n"
                "   1. first\n   2. then\n   </details>\n\n2. Set `L2 = 0`. (3) Set `SEED = 1`.\n\n"
                "<details>\n<summary>Answer</summary>\nSame.\n</details>\n")
    assert exercises_with_answers(markdown) == [(1, True), (2, False), (3, True)]
