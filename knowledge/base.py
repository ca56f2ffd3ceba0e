"""Loading and checking the knowledge base: themes, sources, learning points, routes and areas.

`load_knowledge()` reads every content file once, validates it against `knowledge.schema`, checks the
references between files, and returns a `KnowledgeBase`. Any problem raises `ContentError`, whose
`problems` each name the file, the entry and the field at fault, so a content editor can fix it
without reading code.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge import schema

CONTENT_DIR = Path(__file__).parent / "content"

try:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one content file."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = " / ".join(part for part in (self.entry, self.field) if part)
        return f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"


class ContentError(Exception):
    """Content files that cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the content files:\n{lines}")


@dataclass(frozen=True)
class LearningPoint:
    """A learning point with the source and section heading it came from."""

    id: str
    source: str
    section: str
    heading: str
    kind: str
    audience: tuple[str, ...]
    themes: tuple[str, ...]
    text: str
    question: str


@dataclass
class KnowledgeBase:
    themes: dict[str, schema.Theme]
    sources: dict[str, schema.Source]
    learning_points: dict[str, LearningPoint]
    escalation: schema.EscalationFile
    areas: dict[str, schema.Area]
    safety_cues: schema.SafetyCuesFile
    examples: dict[str, list[str]]
    review: schema.ReviewFile
    _matcher: Any = field(default=None, repr=False)
    _safety: Any = field(default=None, repr=False)

    @property
    def stages(self) -> dict[str, schema.Stage]:
        return {stage.id: stage for stage in self.escalation.stages}

    @property
    def situations(self) -> dict[str, schema.Situation]:
        return {s.id: s for s in self.escalation.situations}

    @property
    def matcher(self):
        """The matcher over this knowledge base, built on first use."""
        if self._matcher is None:
            from knowledge.matcher import Matcher

            self._matcher = Matcher(self)
        return self._matcher

    @property
    def safety(self):
        """The immediate-danger safety net, built on first use."""
        if self._safety is None:
            from knowledge.safety import SafetyNet

            self._safety = SafetyNet(self.safety_cues)
        return self._safety


M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path, label: str, problems: list[Problem]) -> Any:
    """Parse one YAML file; a syntax error becomes a Problem naming the line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problems.append(Problem(label, where, "", f"not valid YAML ({getattr(error, 'problem', error)})"))
    except OSError as error:
        problems.append(Problem(label, "", "", f"cannot be read ({error.strerror})"))
    return None


def validate(model: type[M], data: Any, label: str, problems: list[Problem], entry: str = "") -> M | None:
    """Validate `data` against `model`; each error becomes a Problem naming entry and field.

    `entry` names the entry when `data` is one entry of a file rather than the whole file."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            found, field_path = _locate(data, detail["loc"])
            problems.append(Problem(label, found or entry, field_path, _plain(detail)))
        return None


def _locate(data: Any, loc: tuple) -> tuple[str, str]:
    """Split a pydantic error location into the entry (by its id where it has one) and the field."""
    node, entry, rest = data, "", list(loc)
    consumed = 0
    for index, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            entry, consumed = node["id"], index + 1
    if not entry:
        consumed = 0
        if len(loc) >= 2 and isinstance(loc[1], int):
            entry, consumed = f"{loc[0]}[{loc[1]}]", 2
    rest = loc[consumed:]
    field_path = ""
    for part in rest:
        field_path += f"[{part}]" if isinstance(part, int) else (f".{part}" if field_path else str(part))
    return entry, field_path


def _plain(detail: dict) -> str:
    kind = detail.get("type", "")
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "not a known field (a typo?)"
    if kind == "literal_error":
        return f"{detail['msg'].lower()}, got {detail.get('input')!r}"
    return detail["msg"]


def _label(path: Path, root: Path) -> str:
    try:
        return f"knowledge/content/{path.relative_to(root).as_posix()}"
    except ValueError:
        return path.as_posix()


def _duplicates(ids: Iterable[tuple[str, str]], problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for entry_id, label in ids:
        if entry_id in seen:
            problems.append(Problem(label, entry_id, "id", f"duplicate id (also in {seen[entry_id]})"))
        else:
            seen[entry_id] = label


def check_knowledge(content_dir: Path | None = None) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load and check every content file; return the knowledge base (None if unusable) and problems."""
    root = Path(content_dir) if content_dir else CONTENT_DIR
    problems: list[Problem] = []

    def load(path: Path, model: type[M]) -> M | None:
        label = _label(path, root)
        data = read_yaml(path, label, problems)
        if data is None and not any(p.file == label for p in problems):
            problems.append(Problem(label, "", "", "is empty"))
            return None
        return validate(model, data, label, problems) if data is not None else None

    themes_file = load(root / "themes.yaml", schema.ThemesFile)
    sources_file = load(root / "sources.yaml", schema.SourcesFile)
    escalation = load(root / "escalation.yaml", schema.EscalationFile)
    safety_cues = load(root / "safety_cues.yaml", schema.SafetyCuesFile)
    review = load(root / "review.yaml", schema.ReviewFile)
    lp_files = {p: load(p, schema.LearningPointsFile) for p in sorted((root / "learning_points").glob("*.yaml"))}
    area_files = {p: load(p, schema.Area) for p in sorted((root / "areas").glob("*.yaml"))}
    example_files = {p: load(p, schema.ExamplesFile) for p in sorted((root / "examples").glob("*.yaml"))}

    themes = {t.id: t for t in themes_file.themes} if themes_file else {}
    sources = {s.id: s for s in sources_file.sources} if sources_file else {}
    areas = {a.id: a for a in area_files.values() if a}
    label = functools.partial(_label, root=root)

    if themes_file:
        _duplicates(((t.id, label(root / "themes.yaml")) for t in themes_file.themes), problems)
        for missing in sorted(set(schema.THEME_IDS) - set(themes)):
            problems.append(Problem(label(root / "themes.yaml"), missing, "", "required theme is missing"))
    if sources_file:
        _duplicates(((s.id, label(root / "sources.yaml")) for s in sources_file.sources), problems)
        for source in sources_file.sources:
            if area_files and source.area not in areas:
                problems.append(Problem(label(root / "sources.yaml"), source.id, "area",
                                        f"unknown area {source.area!r}"))

    learning_points: dict[str, LearningPoint] = {}
    for path, lp_file in lp_files.items():
        if lp_file is None:
            continue
        file_label = label(path)
        if sources and lp_file.source not in sources:
            problems.append(Problem(file_label, "", "source", f"unknown source {lp_file.source!r}"))
        headings = {s.key: s.heading for s in lp_file.sections}
        for index, raw in enumerate(lp_file.learning_points):
            given = raw.get("id") if isinstance(raw, dict) else None
            name = given if isinstance(given, str) else f"learning_points[{index}]"
            lp = validate(schema.LearningPoint, raw, file_label, problems, entry=name)
            if lp is None:
                continue
            if lp.section not in headings:
                problems.append(Problem(file_label, lp.id, "section", f"unknown section {lp.section!r}"))
            for i, theme in enumerate(lp.themes):
                if themes and theme not in themes:
                    problems.append(Problem(file_label, lp.id, f"themes[{i}]", f"unknown theme {theme!r}"))
            if lp.id in learning_points:
                problems.append(Problem(file_label, lp.id, "id", "duplicate id (also in "
                                        f"learning_points/{learning_points[lp.id].source}.yaml)"))
                continue
            learning_points[lp.id] = LearningPoint(
                id=lp.id, source=lp_file.source, section=lp.section, heading=headings.get(lp.section, ""),
                kind=lp.kind, audience=tuple(lp.audience), themes=tuple(lp.themes), text=lp.text,
                question=lp.question)

    if escalation:
        esc_label = label(root / "escalation.yaml")
        stage_ids = {s.id for s in escalation.stages}
        _duplicates(((s.id, esc_label) for s in escalation.stages), problems)
        _duplicates(((s.id, esc_label) for s in escalation.situations), problems)
        for situation in escalation.situations:
            if situation.start_stage not in stage_ids:
                problems.append(Problem(esc_label, situation.id, "start_stage",
                                        f"unknown stage {situation.start_stage!r}"))
    for path, area in area_files.items():
        if area and area.source is not None and sources and area.source not in sources:
            problems.append(Problem(label(path), area.id, "source", f"unknown source {area.source!r}"))
    _duplicates(((a.id, label(p)) for p, a in area_files.items() if a), problems)

    examples: dict[str, list[str]] = {}
    for path, examples_file in example_files.items():
        if examples_file is None:
            continue
        if themes and examples_file.theme != "none" and examples_file.theme not in themes:
            problems.append(Problem(label(path), examples_file.theme, "theme",
                                    f"unknown theme {examples_file.theme!r}"))
        examples.setdefault(examples_file.theme, []).extend(examples_file.examples)
    if themes and example_files and "none" not in examples:
        problems.append(Problem("knowledge/content/examples", "none", "", "no examples of text about no theme"))
    if safety_cues:
        _duplicates(((d.id, label(root / "safety_cues.yaml")) for d in safety_cues.dangers), problems)
    if review:
        review_label = label(root / "review.yaml")
        _duplicates(((d.id, review_label) for d in review.domains), problems)
        for domain in review.domains:
            for i, theme in enumerate(domain.themes):
                if themes and theme not in themes:
                    problems.append(Problem(review_label, domain.id, f"themes[{i}]", f"unknown theme {theme!r}"))
    usable = themes_file and sources_file and escalation and safety_cues and review and not problems
    kb = KnowledgeBase(themes, sources, learning_points, escalation, areas, safety_cues,
                       examples, review) if usable else None
    return kb, problems


@functools.cache
def load_knowledge(content_dir: Path | None = None) -> KnowledgeBase:
    """The knowledge base, loaded and checked once per process; raises ContentError on any problem."""
    kb, problems = check_knowledge(content_dir)
    if problems or kb is None:
        raise ContentError(problems)
    return kb
