"""Dialogue scripts: their schema, their checks, and their state machines.

A script (dialogues/scripts/<id>.yaml, format in docs/content.md) is compiled into a `transitions`
machine: one state per step (a 0-10 scale step gets a second state for its "why" follow-up), plus
`end`. Triggers: `next` (branches first, in order, each guarded by its condition on earlier answers;
then the step's `next`), and `skip` (straight to the step's `next`, since a skipped step has no answer
for a branch to test). `back` follows the run's own path, so it uses the machine's `to_<step>` moves.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

from pydantic import Field, model_validator
from transitions import Machine

from knowledge.base import Problem, read_yaml, validate
from knowledge.schema import Strict

SCRIPTS_DIR = Path(__file__).parent / "scripts"
END = "end"
WHY = "__why"
YES_NO = ("yes", "no", "not_sure")

StepKind = Literal["text", "choice", "yes_no", "scale", "date", "info"]
Stage = Literal["what_happened", "child_experience", "analysis", "next_steps"]


class Option(Strict):
    value: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    label: str = Field(min_length=1, max_length=60)


class When(Strict):
    step: str | None = None
    answer: list[str] | None = None
    at_most: int | None = Field(default=None, ge=0, le=10)
    at_least: int | None = Field(default=None, ge=0, le=10)

    @model_validator(mode="after")
    def _one_test(self):
        if (self.answer is None) == (self.at_most is None and self.at_least is None):
            raise ValueError("give either answer or at_most/at_least")
        return self

    def holds(self, answers: dict, here: str) -> bool:
        given = answers.get(self.step or here)
        if given is None:
            return False
        if self.answer is not None:
            return given in self.answer
        try:
            number = int(given)
        except ValueError:
            return False
        return ((self.at_most is None or number <= self.at_most)
                and (self.at_least is None or number >= self.at_least))


class Branch(Strict):
    when: When
    goto: str


class Step(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    kind: StepKind
    prompt: str = Field(min_length=1)
    stage: Stage | None = None
    help: str = ""
    themes: list[str] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list)
    follow_up: str | None = None
    branches: list[Branch] = Field(default_factory=list)
    next: str | None = None
    challenge_vague: bool = False  # a vague answer is challenged once (review actions)


class Script(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    version: int = Field(ge=1)
    title: str
    description: str
    themes: list[str] = Field(min_length=1)
    intro: str
    steps: list[Step] = Field(min_length=1)
    supervision_questions: list[str] = Field(default_factory=list)
    kind: Literal["reflection", "review"] = "reflection"


class ScriptFile(Script):
    """A script as read from its file: each step is checked on its own, so one broken step does
    not hide the problems of the others."""

    steps: list[dict] = Field(min_length=1)


@dataclass
class CompiledScript:
    """A checked script with its state machine."""

    script: Script
    machine: Machine
    steps: dict[str, Step]
    _left: dict[str, int] = field(default_factory=dict, repr=False)  # remaining(), worked out once per step

    @property
    def id(self) -> str:
        return self.script.id

    @property
    def first(self) -> str:
        return self.script.steps[0].id

    def step_of(self, state: str) -> Step:
        return self.steps[state.removesuffix(WHY)]

    def default_next(self, step: Step) -> str:
        """Where a step goes when no branch applies: its `next`, else the following step, else end."""
        if step.next:
            return step.next
        order = [s.id for s in self.script.steps]
        position = order.index(step.id)
        return order[position + 1] if position + 1 < len(order) else END

    def remaining(self, state: str) -> int:
        """Answerable steps left on the default path from `state`, this one included."""
        step_id = state.removesuffix(WHY)
        if step_id not in self._left:
            count, seen, at = 0, set(), step_id
            while at != END and at not in seen:
                seen.add(at)
                step = self.steps[at]
                count += step.kind != "info"
                at = self.default_next(step)
            self._left[step_id] = count
        return self._left[step_id]


class Holds:
    """A branch condition as `transitions` calls it; its name is what a diagram shows."""

    def __init__(self, when: When, here: str):
        self.when, self.here = when, here
        test = (f"in {'/'.join(when.answer)}" if when.answer is not None else
                " ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                         (("at_most", when.at_most), ("at_least", when.at_least)) if v is not None))
        self.__name__ = f"{when.step or here} {test}"

    def __call__(self, event) -> bool:
        return self.when.holds(event.model.answers, self.here)


def declaration(script: Script) -> dict:
    """The machine's states and transitions, as `transitions` takes them."""
    partial = CompiledScript(script, None, {s.id: s for s in script.steps})  # type: ignore[arg-type]
    states, transitions = [], []
    for step in script.steps:
        states.append(step.id)
        leaving = step.id
        if step.kind == "scale":
            states.append(step.id + WHY)
            transitions.append({"trigger": "next", "source": step.id, "dest": step.id + WHY})
            transitions.append({"trigger": "skip", "source": step.id, "dest": partial.default_next(step)})
            leaving = step.id + WHY
        for branch in step.branches:
            transitions.append({"trigger": "next", "source": leaving, "dest": branch.goto,
                                "conditions": Holds(branch.when, step.id)})
        transitions.append({"trigger": "next", "source": leaving, "dest": partial.default_next(step)})
        transitions.append({"trigger": "skip", "source": leaving, "dest": partial.default_next(step)})
    return {"states": states + [END], "transitions": transitions, "initial": script.steps[0].id,
            "send_event": True, "name": script.id}


def compile_script(script: Script) -> CompiledScript:
    machine = Machine(model=[], auto_transitions=True, **declaration(script))
    return CompiledScript(script, machine, {s.id: s for s in script.steps})


def diagram(script: Script) -> str:
    """The dialogue's state machine as a Mermaid state diagram, from the same declaration."""
    from transitions.extensions import GraphMachine

    picture = SimpleNamespace()
    GraphMachine(model=picture, auto_transitions=False, graph_engine="mermaid", show_conditions=True,
                 title=script.title, **declaration(script))
    return picture.get_graph().draw(None)


def _problems_in(script: Script, label: str, theme_ids: set[str], known: set[str]) -> list[Problem]:
    """Problems in a script's valid steps; `known` holds every step id in the file, valid or not."""
    problems = []
    known = known | {END}
    for i, theme in enumerate(script.themes):
        if theme not in theme_ids:
            problems.append(Problem(label, script.id, f"themes[{i}]", f"unknown theme {theme!r}"))
    seen = set()
    for step in script.steps:
        if step.id in seen:
            problems.append(Problem(label, step.id, "id", "duplicate step id"))
        seen.add(step.id)
        for i, theme in enumerate(step.themes):
            if theme not in theme_ids:
                problems.append(Problem(label, step.id, f"themes[{i}]", f"unknown theme {theme!r}"))
        if step.next and step.next not in known:
            problems.append(Problem(label, step.id, "next", f"goes to unknown step {step.next!r}"))
        if step.kind == "choice" and len(step.options) < 2:
            problems.append(Problem(label, step.id, "options", "a choice step needs at least two options"))
        if step.kind != "choice" and step.options:
            problems.append(Problem(label, step.id, "options", f"a {step.kind} step has no options"))
        if step.follow_up and step.kind != "scale":
            problems.append(Problem(label, step.id, "follow_up", "only a scale step has a follow-up"))
        for i, branch in enumerate(step.branches):
            where = f"branches[{i}]"
            if branch.goto not in known:
                problems.append(Problem(label, step.id, f"{where}.goto", f"goes to unknown step {branch.goto!r}"))
            tested = branch.when.step or step.id
            target = next((s for s in script.steps if s.id == tested), None)
            if target is None:
                if tested not in known:
                    problems.append(Problem(label, step.id, f"{where}.when.step", f"unknown step {tested!r}"))
                continue
            allowed = ({o.value for o in target.options} if target.kind == "choice"
                       else set(YES_NO) if target.kind == "yes_no" else None)
            if branch.when.answer is not None and (allowed is None or not set(branch.when.answer) <= allowed):
                problems.append(Problem(label, step.id, f"{where}.when.answer",
                                        f"{branch.when.answer} are not answers step {tested!r} can have"))
            if branch.when.answer is None and target.kind != "scale":
                problems.append(Problem(label, step.id, f"{where}.when",
                                        f"at_most/at_least need a scale step, {tested!r} is {target.kind}"))
    return problems


def _unreachable(script: Script, label: str) -> list[Problem]:
    problems = []
    ids = [s.id for s in script.steps]
    compiled = CompiledScript(script, None, {s.id: s for s in script.steps})  # type: ignore[arg-type]
    reachable, todo = set(), [ids[0]]
    while todo:
        step_id = todo.pop()
        if step_id in reachable or step_id == END:
            continue
        reachable.add(step_id)
        step = compiled.steps[step_id]
        todo += [b.goto for b in step.branches] + [compiled.default_next(step)]
    for step_id in ids:
        if step_id not in reachable:
            problems.append(Problem(label, step_id, "", "unreachable: no step leads here"))
    return problems


def check_scripts(kb, scripts_dir: Path | None = None) -> tuple[dict[str, CompiledScript], list[Problem]]:
    """Load, check and compile every script; problems name the file and the step."""
    root = Path(scripts_dir) if scripts_dir else SCRIPTS_DIR
    problems: list[Problem] = []
    compiled: dict[str, CompiledScript] = {}
    for path in sorted(root.glob("*.yaml")):
        label = f"dialogues/scripts/{path.name}" if root == SCRIPTS_DIR else path.as_posix()
        data = read_yaml(path, label, problems)
        header = validate(ScriptFile, data, label, problems) if data is not None else None
        if header is None:
            continue
        steps, known = [], set()
        for index, raw in enumerate(header.steps):
            given = raw.get("id") if isinstance(raw, dict) else None
            name = given if isinstance(given, str) else f"steps[{index}]"
            known.add(name)
            step = validate(Step, raw, label, problems, entry=name)
            if step is not None:
                steps.append(step)
        whole = len(steps) == len(header.steps)
        script = Script.model_construct(**{**dict(header), "steps": steps})
        if script.id != path.stem:
            problems.append(Problem(label, script.id, "id", f"must match the file name {path.stem!r}"))
        found = _problems_in(script, label, set(kb.themes), known)
        if whole and not found:
            found = _unreachable(script, label)
        problems += found
        if whole and not found:
            compiled[script.id] = compile_script(script)
    return compiled, problems


@functools.cache
def load_scripts() -> dict[str, CompiledScript]:
    """Every dialogue: the reflection scripts, and the case review built from its content file."""
    from dialogues.review import review_script
    from knowledge.base import ContentError, load_knowledge

    kb = load_knowledge()
    scripts, problems = check_scripts(kb)
    if problems:
        raise ContentError(problems)
    review = review_script(kb.review)
    return {**scripts, review.id: compile_script(review)}
