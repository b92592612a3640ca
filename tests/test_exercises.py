"""Every exercise of both notebooks has its answer beside it (STYLE.md, "Answers beside exercises"): a
single **Exercise.** is followed, before the next exercise or section, by a collapsible `<details>` block
with a `<summary>`; in a list of **Exercises.** (or under an "Exercises" heading) each numbered item is."""

import json
import re

import pytest

from conftest import GOING_FURTHER, LESSON
DETAILS = re.compile(r"<details[^>]*>(.*?)</details>", re.DOTALL)
ANSWER = "\0answer\0"                       # what a <details> block is replaced by before the items are found
# An exercise begins a line as "1. " (a Markdown list) or "(1) ", or follows a space as " (1) ".
ITEM = re.compile(r"(?:^[ \t]*(\d{1,2})\.[ \t]|(?:^|[ \t])\((\d{1,2})\)[ \t])", re.MULTILINE)


SINGLE = re.compile(r"\*\*Exercise\.\*\*")
LIST = re.compile(r"^(?:#+ *|\*\*)Exercises", re.MULTILINE)
NEXT = re.compile(r"\*\*Exercises?\.?\*\*|^#+ ", re.MULTILINE)   # where an exercise's text ends at the latest


def notebook_markdown(path):
    """The markdown cells of the notebook, in order, joined."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def single_exercises_with_answers(markdown):
    """[(the exercise's first words, whether a <details> block with a <summary> follows before the next one)]."""
    found = []
    for match in SINGLE.finditer(markdown):
        end = next((m.start() for m in NEXT.finditer(markdown, match.end())), len(markdown))
        blocks = DETAILS.findall(markdown[match.end():end])
        found.append((markdown[match.end():end].split("\n")[0].strip(),
                      any(re.search(r"<summary[^>]*>.+?</summary>", block, re.DOTALL) for block in blocks)))
    return found


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


@pytest.mark.parametrize("path", [LESSON, GOING_FURTHER], ids=lambda path: path.name)
def test_every_exercise_is_followed_by_an_answer_in_a_details_block(path):
    markdown = notebook_markdown(path)
    singles = single_exercises_with_answers(markdown)
    lists = [exercises_with_answers(markdown[match.start():]) for match in LIST.finditer(markdown)]
    assert singles or lists, f"{path.name} has no exercise"
    assert [words for words, answered in singles if not answered] == []
    for exercises in lists:
        assert [number for number, _ in exercises] == list(range(1, len(exercises) + 1)) and exercises, exercises
        assert [number for number, answered in exercises if not answered] == []


def test_the_exercise_parser_finds_each_answer_and_each_missing_one():
    markdown = ("**Exercises** (in section 1):\n\n1. Set `SHIFT = 0`.\n\n   <details><summary>Answer</summary>\n\n"
                "   1. first\n   2. then\n   </details>\n\n2. Set `L2 = 0`. (3) Set `SEED = 1`.\n\n"
                "<details>\n<summary>Answer</summary>\nSame.\n</details>\n")
    assert exercises_with_answers(markdown) == [(1, True), (2, False), (3, True)]


def test_a_single_exercise_without_an_answer_before_the_next_is_found():
    markdown = ("**Exercise.** Set `SHIFT = 0`.\n\n<details><summary>Answer</summary>Less.</details>\n\n"
                "**Exercise.** Set `L2 = 0`.\n\n## 5. Next\n\n<details><summary>Answer</summary>late</details>")
    assert single_exercises_with_answers(markdown) == [("Set `SHIFT = 0`.", True), ("Set `L2 = 0`.", False)]
