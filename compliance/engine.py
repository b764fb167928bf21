"""The compliance engine: facts in, coverage and findings out. Pure: no database, no clock.

How it works: every instant where something may change (a shift or an on-site interval
starting or ending, a certificate coming into or out of effect, a class or rule set taking
effect) is a boundary. One sweep over the sorted boundaries cuts the period into segments in
which nothing changes, so each rule is judged once per segment; each logbook entry then
finds its segment by bisection. The cost is O((B + E) log B) for B boundaries and E entries,
instead of E x shifts.

Who holds charge on site is the rule pack's data (``RuleSet.charge_roles``, ``required``,
``role_rules``, ``rules_applied``); entries are judged by the state's rules (a certified
operator present for operational activity, where the state says so) and by the site's
competency policy (``compliance.competency``), whose findings are never violations. The
stretches of the period with no shift recorded are reported as gaps, and no finding about a
moment of operation spans them.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from compliance.competency import (
    DEFAULT_POLICY,
    RANK,
    VERIFIER_LEVEL,
    KindRule,
    Level,
    in_force,
    verifier_problem,
)
from compliance.grades import Grade
from compliance.model import Certificate, Entry, Operator, Role, Scenario
from compliance.qualification import (
    EMPTY_TIMELINE,
    Timeline,
    add_years,
    build_timeline,
    certificate_window,
    explain,
    grandfather_change,
    static_problem,
)
from compliance.report import ClassSpan, CoverageInterval, EntryStamp, Finding, Report
from compliance.rulesets import (
    CERTIFICATE_EXPIRING,
    CERTIFIED_ON_SITE,
    COUNTERSIGN_MISSING,
    DRC_MISSING,
    DRC_UNQUALIFIED,
    NO_RULE_SET,
    NO_SHIFT_RECORDED,
    RECORD_CITATION,
    RENEWAL_TRAINING,
    RULE_IDS,
    RULE_SETS,
    SUPERVISION_MISSING,
    RuleSet,
    basis_of,
    rule_set_at,
    severity_of,
)
from compliance.timeutil import (
    end_of_local_day,
    human_duration,
    human_local,
    human_span,
    local_midnight,
)

ROLE_NAMES: dict[str, str] = {
    "drc": "operator in direct responsible charge",
    "chief": "chief operator",
    "assistant_chief": "assistant chief operator",
    "shift_operator": "shift operator",
    "operator": "operator",
    "trainee": "trainee",
}
_MAX_LISTED = 5
WORKS = {
    "treatment": "treatment plant",
    "collection": "collection system",
    "small_lagoon": "small lagoon system",
}
_POLICY_NOTE = "This is the site's competency policy, not a state rule."


# The two kinds of sweep event: a shift running, a crew member on site.
_SHIFT, _ON_SITE = 0, 1


@dataclass(frozen=True, slots=True)
class _Context:
    """What is in force over a span: the rule set and the facility's class."""

    start: datetime
    rules: RuleSet
    in_force: bool  # False: before any rule set on record (``rules`` is the earliest)
    facility_class: Grade
    required: dict[Role, Grade]
    points: int | None = None


# (rule, operators, their roles): consecutive segments with the same key are one finding.
_FindingKey = tuple[str, tuple[str, ...], tuple[str, ...]]


@dataclass(slots=True)
class _Segment:
    start: datetime
    end: datetime
    ctx: _Context
    shifts: tuple[int, ...]
    on_site: tuple[tuple[str, str], ...]
    drc: tuple[str, ...]  # who holds charge on site (see ``CoverageInterval``)
    people: tuple[str, ...]
    certified: tuple[str, ...]
    run: int = 0  # id of the run of consecutive segments sharing "no one certified on site"
    # The crews of the active shifts (on site or not) and their roles.
    duty: Mapping[str, frozenset[str]] = field(default_factory=dict)
    keys: tuple[_FindingKey, ...] = ()  # the staffing rules this segment breaks


# An author's entries on a set of shifts that want the same supervision: one finding.
_Unsupervised = tuple[str, str, tuple[int, ...], KindRule]
_Problem = tuple[Entry, str]


@dataclass(slots=True)
class _OpenFinding:
    start: datetime
    end: datetime
    ctx: _Context
    shifts: set[int] = field(default_factory=set)


def check(
    scenario: Scenario,
    rule_sets: Mapping[str, Sequence[RuleSet]] = RULE_SETS,
) -> Report:
    """Judge ``scenario`` by the rule sets of ``scenario.rules`` in force at each moment."""
    # The engine allocates one small object per entry and makes no reference cycles, so
    # the cyclic collector would only re-scan the (large) live input again and again:
    # pausing it is a third of the run time on a year of entries.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Check(scenario, rule_sets).run()
    finally:
        if was_enabled:
            gc.enable()


class _Check:
    def __init__(self, scenario: Scenario, rule_sets: Mapping[str, Sequence[RuleSet]]) -> None:
        self.scenario = scenario
        self.facility = scenario.facility
        self.tz = scenario.facility.tz
        self.period_start = scenario.period.start
        self.period_end = scenario.period.end
        versions = tuple(rule_sets.get(scenario.rules, ()))
        if not versions:
            raise ValueError(f"no rule set for {scenario.rules!r}")
        if not scenario.facility.classes:
            raise ValueError(f"facility {scenario.facility.name!r} has no class")
        if scenario.period.end <= scenario.period.start:
            raise ValueError("the period must end after it starts")
        self.versions = versions
        self.operator_by_id: dict[str, Operator] = {o.id: o for o in scenario.operators}
        self._timelines: dict[tuple[str, int], Timeline] = {}
        self._levels: dict[str, tuple[list[datetime], list[Level]]] = {}
        self.findings: list[Finding] = []
        self.crew_operators = {
            member.operator for shift in scenario.shifts for member in shift.crew
        }
        # R317-10-4 I: "In cases where only one operator is employed, this operator shall be
        # considered to be in direct responsible charge" (the facility's roster says so).
        self.one_operator = scenario.facility.employed_operators == 1
        self.activated = scenario.facility.activated_sludge
        self.policy = scenario.competency or DEFAULT_POLICY
        self.levels_on_record = scenario.competency is not None
        self._segs: list[_Segment] = []
        self._seg_starts: list[datetime] = []

    # --- lookups -----------------------------------------------------------------------

    def timeline(self, op_id: str, rules: RuleSet) -> Timeline:
        key = (op_id, id(rules))
        timeline = self._timelines.get(key)
        if timeline is None:
            op = self.operator_by_id.get(op_id)
            timeline = build_timeline(op, self.facility, rules) if op else EMPTY_TIMELINE
            self._timelines[key] = timeline
        return timeline

    def level_line(self, op_id: str) -> tuple[list[datetime], list[Level]]:
        """An operator's assessed levels as (instants from which each holds, levels)."""
        line = self._levels.get(op_id)
        if line is None:
            op = self.operator_by_id.get(op_id)
            bounds: list[datetime] = []
            levels: list[Level] = []
            records = sorted(
                enumerate(in_force(op.assessments if op else ())),
                key=lambda item: (item[1].assessed_on, item[0]),
            )
            for _, a in records:
                at = local_midnight(a.assessed_on, self.tz)
                if bounds and bounds[-1] == at:
                    levels[-1] = a.level
                else:
                    bounds.append(at)
                    levels.append(a.level)
            line = self._levels[op_id] = (bounds, levels)
        return line

    def level(self, op_id: str, t: datetime) -> Level | None:
        """The assessed level at ``t``; None if none is on record by then (emerging)."""
        bounds, levels = self.level_line(op_id)
        i = bisect_right(bounds, t) - 1
        return levels[i] if i >= 0 else None

    def label(self, op_id: str) -> str:
        op = self.operator_by_id.get(op_id)
        return op.label() if op else op_id

    def labels(self, ids: Sequence[str]) -> str:
        return ", ".join(self.label(i) for i in ids)

    def shift_names(self, indexes: set[int] | Sequence[int]) -> str:
        return ", ".join(self.scenario.shifts[i].id for i in sorted(indexes))

    # --- what is in force when ---------------------------------------------------------

    def contexts(self) -> list[_Context]:
        tz = self.tz
        ordered = sorted(self.versions, key=lambda v: v.effective_from or datetime.min.date())
        classes = sorted(self.facility.classes, key=lambda c: c.effective or datetime.min.date())
        cuts = {self.period_start}
        for v in ordered:
            if v.effective_from is not None:
                cuts.add(local_midnight(v.effective_from, tz))
        for c in classes:
            if c.effective is not None:
                cuts.add(local_midnight(c.effective, tz))
        out: list[_Context] = []
        for start in sorted(t for t in cuts if self.period_start <= t < self.period_end):
            day = start.astimezone(tz).date()
            rules = rule_set_at(ordered, day)
            in_force = rules is not None
            rules = rules or ordered[0]
            current = [c for c in classes if c.effective is None or c.effective <= day]
            # Before the first recorded class, the first one is assumed (documented).
            in_class = current[-1] if current else classes[0]
            out.append(
                _Context(
                    start,
                    rules,
                    in_force,
                    in_class.grade,
                    rules.required(in_class.grade),
                    in_class.points,
                )
            )
        return out

    # --- the sweep ---------------------------------------------------------------------

    def segments(self, contexts: list[_Context]) -> list[_Segment]:
        period_start, period_end = self.period_start, self.period_end
        # (time, +1 starts / -1 ends, _SHIFT or _ON_SITE, shift index or (operator, role))
        events: list[tuple[datetime, int, int, object]] = []
        for index, shift in enumerate(self.scenario.shifts):
            start, end = max(shift.start, period_start), min(shift.end, period_end)
            if start >= end:
                continue
            events.append((start, 1, _SHIFT, index))
            events.append((end, -1, _SHIFT, index))
            for member in shift.crew:
                stints = (
                    member.on_site if member.on_site is not None else ((shift.start, shift.end),)
                )
                for arrived, left in stints:
                    arrived, left = max(arrived, start), min(left, end)
                    if arrived < left:
                        events.append((arrived, 1, _ON_SITE, (member.operator, member.role)))
                        events.append((left, -1, _ON_SITE, (member.operator, member.role)))
        events.sort(key=itemgetter(0))

        times = {period_start, period_end}
        times.update(event[0] for event in events)
        times.update(c.start for c in contexts)
        for rules in {id(c.rules): c.rules for c in contexts}.values():
            for op in self.crew_operators:
                times.update(self.timeline(op, rules).bounds)
        ordered_times = sorted(t for t in times if period_start <= t <= period_end)

        ctx_starts = [c.start for c in contexts]
        active: dict[int, int] = {}
        present: dict[tuple[str, str], int] = {}
        segs: list[_Segment] = []
        next_event = 0
        n_events = len(events)
        run = 0
        prev_run_key: tuple[bool, bool] = (False, False)
        duty_cache: dict[tuple[int, ...], dict[str, frozenset[str]]] = {}
        for i in range(len(ordered_times) - 1):
            t, t_next = ordered_times[i], ordered_times[i + 1]
            while next_event < n_events and events[next_event][0] <= t:
                _, delta, kind, key = events[next_event]
                counts: dict[Any, int] = active if kind == _SHIFT else present
                count = counts.get(key, 0) + delta
                if count:
                    counts[key] = count
                else:
                    counts.pop(key, None)
                next_event += 1
            ctx = contexts[bisect_right(ctx_starts, t) - 1]
            on_site = tuple(sorted(present))
            people = tuple(sorted({op for op, _ in on_site}))
            certified = tuple(op for op in people if self.timeline(op, ctx.rules).certified(t))
            shift_key = tuple(sorted(active))
            # A run without a certified operator on site does not continue across the
            # boundary between shift time and a stretch with no shift recorded.
            run_key = (not certified, bool(shift_key))
            if run_key[0] and run_key != prev_run_key:
                run += 1
            prev_run_key = run_key
            duty = duty_cache.get(shift_key)
            if duty is None:
                roles: dict[str, set[str]] = defaultdict(set)
                for index in shift_key:
                    for member in self.scenario.shifts[index].crew:
                        roles[member.operator].add(member.role)
                duty = duty_cache[shift_key] = {op: frozenset(held) for op, held in roles.items()}
            drc, keys = self.charge(ctx, t, on_site, bool(shift_key))
            segs.append(
                _Segment(
                    t, t_next, ctx, shift_key, on_site, drc, people, certified, run, duty, keys
                )
            )
        return segs

    def charge(
        self, ctx: _Context, t: datetime, on_site: tuple[tuple[str, str], ...], shift: bool
    ) -> tuple[tuple[str, ...], tuple[_FindingKey, ...]]:
        """Who holds charge on site at ``t``, and the staffing rules broken (issue 15)."""
        rules, required = ctx.rules, ctx.required
        order = rules.charge_roles
        candidates = sorted(
            ((op, role) for op, role in on_site if role in order),
            key=lambda c: (order.index(c[1]), c[0]),
        )
        if self.one_operator and rules.sole_operator_is_drc:
            # The one operator employed is deemed in DRC, whatever the crew calls them.
            held = {op for op, _ in candidates}
            candidates += sorted(
                (op, "drc") for op, role in on_site if role != "trainee" and op not in held
            )
        qualified = [
            op for op, role in candidates if self.timeline(op, rules).meets(t, required[role])
        ]
        if qualified:
            drc: tuple[str, ...] = (qualified[0],)
        else:
            drc = tuple(dict.fromkeys(op for op, _ in candidates))
        keys: list[_FindingKey] = []
        if not shift:
            return drc, ()
        if not ctx.in_force:
            return drc, ((NO_RULE_SET, (), ()),)
        if not candidates:
            if rules.charge_required:
                keys.append((DRC_MISSING, (), ()))
        elif not qualified and rules.judges(DRC_UNQUALIFIED):
            # Candidates whose role has a grade rule of its own are reported under it.
            plain = sorted({c for c in candidates if c[1] not in rules.role_rules})
            if plain:
                keys.append(
                    (DRC_UNQUALIFIED, tuple(op for op, _ in plain), tuple(r for _, r in plain))
                )
        for op, role in on_site:
            role_rule = rules.role_rules.get(role)  # type: ignore[call-overload]
            need = required.get(role)  # type: ignore[call-overload]
            if role_rule and need and not self.timeline(op, rules).meets(t, need):
                keys.append((role_rule.rule, (op,), (role,)))
        return drc, tuple(keys)

    # --- time-based rules --------------------------------------------------------------

    def judge_segments(self, segs: list[_Segment]) -> None:
        open_findings: dict[_FindingKey, _OpenFinding] = {}
        gap: list[datetime] | None = None
        for seg in segs:
            keys = seg.keys
            present = set(keys)
            for key in [k for k in open_findings if k not in present]:
                self.close(key, open_findings.pop(key))
            for key in keys:
                finding = open_findings.get(key)
                if finding is None or finding.end != seg.start:
                    if finding is not None:
                        self.close(key, finding)
                    finding = open_findings[key] = _OpenFinding(seg.start, seg.end, seg.ctx)
                finding.end = seg.end
                finding.shifts.update(seg.shifts)
            if seg.shifts:
                if gap is not None:
                    self.no_shift(*gap)
                    gap = None
            elif gap is None:
                gap = [seg.start, seg.end]
            else:
                gap[1] = seg.end
        for key, finding in open_findings.items():
            self.close(key, finding)
        if gap is not None:
            self.no_shift(*gap)

    def no_shift(self, start: datetime, end: datetime) -> None:
        span = human_span(start, end, self.tz)
        msg = (
            f"No shift was recorded from {span} ({human_duration(end - start)}). The record "
            "does not say who was on site, so these hours were not judged."
        )
        self.add(NO_SHIFT_RECORDED, start, end, (), (), msg, RECORD_CITATION)

    def close(self, key: _FindingKey, finding: _OpenFinding) -> None:
        rule, ops, roles = key
        tz, ctx = self.tz, finding.ctx
        rules = ctx.rules
        span = human_span(finding.start, finding.end, tz)
        duration = human_duration(finding.end - finding.start)
        shifts = self.shift_names(finding.shifts)
        plant = self.describe(ctx)
        if rule == DRC_MISSING:
            names = [ROLE_NAMES[r] for r in rules.charge_roles]
            who = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            msg = (
                f"No one who may hold charge was on site from {span} ({duration}), shift "
                f"{shifts}: no {who}."
            )
            citation = rules.citation(rule, self.activated)
        elif rule == DRC_UNQUALIFIED:
            why = "; ".join(
                f"{self.label(op)} as {ROLE_NAMES[role]} (needs "
                f"{rules.show(ctx.required[role])}): "  # type: ignore[index]
                + self.explain(op, rules, finding.start, ctx.required[role])  # type: ignore[index]
                for op, role in zip(ops, roles, strict=True)
            )
            msg = (
                f"No one on site from {span} ({duration}), shift {shifts}, was qualified to "
                f"hold charge of this {plant}: {why}."
            )
            citation = rules.citation(rule, self.activated)
        elif rule == NO_RULE_SET:
            first = min((v.effective_from for v in self.versions if v.effective_from), default=None)
            msg = (
                f"From {span} no {self.scenario.rules} rule set is on record "
                f"(the earliest takes effect {first}); these hours were not judged."
            )
            citation = rules.citation(rule, self.activated)
        else:
            role = roles[0]
            need = ctx.required[role]  # type: ignore[index]
            why = self.explain(ops[0], rules, finding.start, need)
            msg = (
                f"{self.label(ops[0])}, {ROLE_NAMES[role]} on shift {shifts} from {span} "
                f"({duration}), does not hold grade {rules.show(need)}, the minimum for the "
                f"{ROLE_NAMES[role]} of this {plant}: {why}."
            )
            citation = rules.cite(rules.role_rules[role].citation, self.activated)  # type: ignore[index]
        self.add(rule, finding.start, finding.end, ops, (), msg, citation)

    def explain(self, op_id: str, rules: RuleSet, t: datetime, required: Grade) -> str:
        return explain(self.operator_by_id.get(op_id), self.facility, rules, t, required)

    def describe(self, ctx: _Context) -> str:
        """``class III treatment plant``; a state grading by point score names no class."""
        works = WORKS[self.facility.category]
        if ctx.rules.graded_by_points:
            kind = "activated-sludge plant" if self.facility.activated_sludge else works
            score = f"{ctx.points}-point " if ctx.points is not None else ""
            return f"{score}{kind} (chief grade {ctx.rules.show(ctx.facility_class)})"
        return f"class {ctx.rules.show(ctx.facility_class)} {works}"

    def add(
        self,
        rule: str,
        start: datetime,
        end: datetime,
        ops: Sequence[str],
        entries: Sequence[str],
        message: str,
        citation: str,
    ) -> None:
        self.findings.append(
            Finding(
                rule,
                severity_of(rule),
                start,
                end,
                tuple(ops),
                tuple(entries),
                message,
                citation,
                basis_of(rule),
            )
        )

    # --- entries -----------------------------------------------------------------------

    def judge_entries(self, segs: list[_Segment]) -> tuple[list[EntryStamp], list[str]]:
        period_start, period_end = self.period_start, self.period_end
        starts = self._seg_starts
        stamps: list[EntryStamp] = []
        outside: list[str] = []
        # Per run without a certified operator on site; outside shift time, per instant.
        no_certified: dict[tuple[int, datetime | None], list[Entry]] = defaultdict(list)
        unsupervised: dict[_Unsupervised, list[_Problem]] = defaultdict(list)
        levels_seen: dict[_Unsupervised, str] = {}  # how the author's level was known
        stamp = stamps.append
        kinds, unknown_kind = self.policy.kinds, self.policy.unknown
        on_record = self.levels_on_record
        level = self.level
        free = self.unsupervised_throughout()
        # The hot loop: one bisection per entry, then dictionary lookups on its segment.
        for entry in self.scenario.entries:
            t = entry.time
            if t < period_start or t >= period_end:
                outside.append(entry.id)
                continue
            seg = segs[bisect_right(starts, t) - 1]
            stamp(EntryStamp(entry.id, t, seg.certified, seg.drc))
            rules = seg.ctx.rules
            if (
                not seg.certified
                and (entry.operational or entry.kind in rules.operational_kinds)
                and seg.ctx.in_force
                and rules.judges(CERTIFIED_ON_SITE)
            ):
                no_certified[seg.run, None if seg.shifts else t].append(entry)
            author = entry.author
            roles = seg.duty.get(author)
            # A trainee is emerging for the shift, whatever the record says.
            trainee = roles is not None and "trainee" in roles
            if trainee:
                held: Level | None = "emerging"
            elif not on_record or author in free:
                continue
            else:
                held = level(author, t)
            kind_rule = kinds.get(entry.kind, unknown_kind) if entry.kind else unknown_kind
            # None on record is emerging: a kind recorded unsupervised from emerging is free.
            if RANK[held or "emerging"] >= RANK[kind_rule.unsupervised_from]:
                continue
            problem = self.supervision_problem(entry, seg, kind_rule)
            if problem is None:
                continue
            rule = SUPERVISION_MISSING if kind_rule.below == "direct" else COUNTERSIGN_MISSING
            key = (rule, author, seg.shifts, kind_rule)
            if key not in levels_seen:
                levels_seen[key] = (
                    "a trainee"
                    if trainee
                    else f"assessed {held}"
                    if held
                    else "with no level on record (emerging)"
                )
            unsupervised[key].append((entry, problem))
        self.entry_findings(segs, no_certified, unsupervised, levels_seen)
        return stamps, outside

    def unsupervised_throughout(self) -> frozenset[str]:
        """Operators whose assessed level, all through the period, lets them record every
        kind unsupervised (outside a trainee role): their entries need no further look."""
        floor = max(
            RANK[r.unsupervised_from] for r in (*self.policy.kinds.values(), self.policy.unknown)
        )
        free = set()
        for op in self.scenario.operators:
            bounds, levels = self.level_line(op.id)
            i = bisect_right(bounds, self.period_start) - 1
            if i >= 0 and min(RANK[level] for level in levels[i:]) >= floor:
                free.add(op.id)
        return frozenset(free)

    def verifier_level(self, op_id: str, t: datetime, seg: _Segment | None) -> Level:
        roles = seg.duty.get(op_id) if seg is not None else None
        if roles is not None and "trainee" in roles:
            return "emerging"
        if not self.levels_on_record:
            return VERIFIER_LEVEL
        return self.level(op_id, t) or "emerging"

    def segment_at(self, t: datetime) -> _Segment | None:
        if not self.period_start <= t < self.period_end:
            return None
        return self._segs[bisect_right(self._seg_starts, t) - 1]

    def supervision_problem(self, entry: Entry, seg: _Segment, kind_rule: KindRule) -> str | None:
        """Why ``entry`` lacks the supervision ``kind_rule`` asks for; None if it has it.

        ``verify``: a verification on record, at or after the entry, by someone qualified at
        its time (the entry's time if the verification's is not known). ``direct``: the
        verifier was qualified and on site at the entry's time.
        """
        verifier = entry.countersigned_by
        if verifier is None:
            return f"{entry.id} not verified"
        when = entry.countersigned_at
        if when is not None and when < entry.time:
            return f"{entry.id} verified by {self.label(verifier)} before it was made"
        direct = kind_rule.below == "direct"
        if direct and verifier != entry.author and verifier not in seg.people:
            return f"{entry.id} verified by {self.label(verifier)}, who was not on site at its time"
        t = entry.time if direct or when is None else when
        at_seg = seg if t == entry.time else self.segment_at(t)
        problem = verifier_problem(
            entry.author,
            verifier,
            self.timeline(verifier, seg.ctx.rules).certified(t),
            self.verifier_level(verifier, t, at_seg),
        )
        if problem is None:
            return None
        return f"{entry.id} verified by {self.label(verifier)}, who {problem}"

    def entry_findings(
        self,
        segs: list[_Segment],
        no_certified: Mapping[tuple[int, datetime | None], list[Entry]],
        unsupervised: Mapping[_Unsupervised, list[_Problem]],
        authors_level: Mapping[_Unsupervised, str],
    ) -> None:
        tz = self.tz
        if no_certified:
            run_span: dict[int, list[datetime]] = {}
            run_seg: dict[int, _Segment] = {}
            for seg in segs:
                if (seg.run, None) in no_certified and not seg.certified:
                    span = run_span.setdefault(seg.run, [seg.start, seg.end])
                    span[1] = seg.end
                    run_seg.setdefault(seg.run, seg)
            for (run, instant), entries in no_certified.items():
                ids = [entry.id for entry in entries]
                authors = sorted({entry.author for entry in entries})
                n = len(ids)
                made = (
                    f"{n} operational entr{'y was' if n == 1 else 'ies were'} made "
                    f"({self._list(ids)}) by {self.labels(authors)}"
                )
                if instant is None:
                    seg = run_seg[run]
                    start, end = run_span[run]
                    msg = (
                        f"No certified operator was on site from {human_span(start, end, tz)}, "
                        f"yet {made}."
                    )
                else:
                    # No finding spans time without shifts: the entries' instant only.
                    seg = self._segs[bisect_right(self._seg_starts, instant) - 1]
                    start = end = instant
                    msg = (
                        f"At {human_local(instant, tz)} {made}, but no shift was recorded, so "
                        "no certified operator is on record as on site."
                    )
                msg += (
                    " A certified operator must be present whenever operational activity is "
                    "undertaken."
                )
                self.add(
                    CERTIFIED_ON_SITE,
                    start,
                    end,
                    authors,
                    ids,
                    msg,
                    seg.ctx.rules.citation(CERTIFIED_ON_SITE, self.activated),
                )
        for key, items in unsupervised.items():
            rule, author, shift_indexes, kind_rule = key
            first, last = items[0][0].time, items[-1][0].time
            where = f" on shift {self.shift_names(shift_indexes)}," if shift_indexes else ""
            detail = "; ".join(problem for _, problem in items[:_MAX_LISTED])
            more = f"; and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
            n = len(items)
            if kind_rule.below == "direct":
                need = (
                    "direct supervision (a certified operator assessed "
                    f"{VERIFIER_LEVEL} or above, on site at the time, who verifies the entry)"
                )
            else:
                need = f"verification by a certified operator assessed {VERIFIER_LEVEL} or above"
            msg = (
                f"{n} entr{'y' if n == 1 else 'ies'} by {self.label(author)}, "
                f"{authors_level[key]},{where} {human_local(first, tz)}"
                + (f" to {human_local(last, tz)}" if last != first else "")
                + f": below {kind_rule.unsupervised_from}, the site's policy asks for {need}; "
                f"{detail}{more}. {_POLICY_NOTE}"
            )
            self.add(
                rule,
                first,
                last,
                [author],
                [entry.id for entry, _ in items],
                msg,
                kind_rule.citation(),
            )

    @staticmethod
    def _list(ids: Sequence[str]) -> str:
        shown = ", ".join(ids[:_MAX_LISTED])
        return shown + (f" and {len(ids) - _MAX_LISTED} more" if len(ids) > _MAX_LISTED else "")

    # --- certificates: expiry and renewal training -------------------------------------

    def judge_certificates(self, contexts: list[_Context]) -> None:
        facility, tz = self.facility, self.tz
        rules = contexts[-1].rules
        horizon = self.scenario.expiry_horizon
        for op in self.scenario.operators:
            for cert in op.certificates:
                if static_problem(cert, facility, rules) is not None or cert.kind == "provisional":
                    continue
                _, end = certificate_window(cert, facility, rules)
                lapse = (
                    grandfather_change(facility)
                    if end < end_of_local_day(cert.expires, tz)
                    else None
                )
                # A grandfather certificate's last year is warned all year long.
                warn_from = end - horizon
                if lapse is not None:
                    warn_from = min(warn_from, local_midnight(lapse[0], tz))
                if not (self.period_start < end and warn_from <= self.period_end):
                    continue
                later = self.continued(op, cert)
                if later is not None and later.issued <= cert.expires + timedelta(days=1):
                    continue
                label = f"{cert.category.replace('_', ' ')} {rules.show(cert.grade)} ({cert.id})"
                days = (end - self.period_end).days
                after = f", {days} days after this period" if end > self.period_end else ""
                citation = rules.citation(CERTIFICATE_EXPIRING, self.activated)
                if lapse is not None:
                    citation = rules.sections["grandfather"]
                    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
                    when = "stopped" if end <= self.period_end else "stops"
                    msg = (
                        f"{op.label()}'s grandfather {label} certificate {when} qualifying at "
                        f"the end of {last.isoformat()}{after}: one year after {lapse[1]} on "
                        f"{lapse[0].isoformat()} ({citation}). A restricted or full certificate "
                        "is needed by then."
                    )
                else:
                    when = "expired" if end <= self.period_end else "expires"
                    if later is None:
                        then = "no renewed certificate is on record. An expired certificate "
                        then += "does not qualify its holder."
                    else:
                        gap_end = later.issued - timedelta(days=1)
                        then = (
                            f"reinstated or renewed from {later.issued.isoformat()} ({later.id}); "
                            f"it did not qualify from "
                            f"{(cert.expires + timedelta(days=1)).isoformat()} to "
                            f"{gap_end.isoformat()}."
                        )
                    msg = (
                        f"{op.label()}'s {label} certificate {when} at the end of "
                        f"{cert.expires.isoformat()}{after}; {then} {rules.expiry_note}"
                    ).rstrip()
                self.add(
                    CERTIFICATE_EXPIRING,
                    max(self.period_start, warn_from),
                    end,
                    [op.id],
                    [],
                    msg,
                    citation,
                )
                if rules.judges(RENEWAL_TRAINING):
                    self.renewal(op, cert, rules, end)

    def continued(self, op: Operator, cert: Certificate) -> Certificate | None:
        """The first later certificate of the same kind of work that continues ``cert``
        (from the day after it expires, or after a gap), if one is on record."""
        later = [
            other
            for other in op.certificates
            if other is not cert
            and other.state == cert.state
            and other.category == cert.category
            and other.kind in ("full", "grandfather")
            and other.grade.satisfies(cert.grade)
            and other.expires > cert.expires
            and other.issued > cert.issued
        ]
        return min(later, key=lambda c: c.issued) if later else None

    def renewal(self, op: Operator, cert: Certificate, rules: RuleSet, end: datetime) -> None:
        """Training hours in the renewal window against the grade's requirement."""
        if rules.renewal_hours is None:
            return
        need = rules.renewal_hours.get(cert.grade.level)
        if need is None:
            return
        if rules.renewal_window_years:
            first = end_of_local_day(cert.expires, self.tz).astimezone(self.tz).date()
            window_start = add_years(first, -rules.renewal_window_years)
        else:
            window_start = cert.issued
        records = [r for r in op.training if r.approved and window_start <= r.date <= cert.expires]
        in_person = sum(r.hours for r in records if not r.online)
        online = sum(r.hours for r in records if r.online)
        counted_online = (
            online if rules.online_cap is None else min(online, rules.online_cap * need)
        )
        total = in_person + counted_online
        if total >= need:
            return
        cap_note = ""
        if rules.online_cap is not None and online > counted_online:
            cap_note = (
                f" ({online:g} h online, of which only {counted_online:g} h count: online or "
                f"webinar training may make up at most {rules.online_cap:.0%} of the "
                f"{need:g} h)"
            )
        msg = (
            f"{op.label()} has {total:g} h of approved training counted toward renewing "
            f"grade {rules.show(cert.grade)} certificate {cert.id} (window "
            f"{window_start.isoformat()} to {cert.expires.isoformat()}); grade "
            f"{rules.show(cert.grade)} needs {need:g} h{cap_note}. "
            f"{need - total:g} h are missing."
        )
        self.add(
            RENEWAL_TRAINING,
            local_midnight(window_start, self.tz),
            end,
            [op.id],
            [],
            msg,
            rules.citation(RENEWAL_TRAINING, self.activated),
        )

    # --- putting it together -----------------------------------------------------------

    def run(self) -> Report:
        contexts = self.contexts()
        segs = self._segs = self.segments(contexts)
        self._seg_starts = [seg.start for seg in segs]
        self.judge_segments(segs)
        stamps, outside = self.judge_entries(segs)
        self.judge_certificates(contexts)
        coverage = self.coverage(segs)
        spans = self.class_spans(contexts)
        first = contexts[0]
        order = {r: i for i, r in enumerate(RULE_IDS)}
        findings = sorted(
            self.findings, key=lambda f: (f.start, order.get(f.rule, 99), f.operators)
        )
        return Report(
            rules=self.scenario.rules,
            facility=self.facility.name,
            timezone=self.facility.timezone,
            tz=self.tz,
            period_start=self.period_start,
            period_end=self.period_end,
            facility_class=first.rules.show(first.facility_class),
            required={r: first.rules.show(g) for r, g in first.required.items()},
            class_spans=spans,
            coverage=coverage,
            findings=tuple(findings),
            entries=tuple(stamps),
            entries_outside_period=tuple(outside),
        )

    def coverage(self, segs: list[_Segment]) -> tuple[CoverageInterval, ...]:
        out: list[CoverageInterval] = []
        names = [shift.id for shift in self.scenario.shifts]
        prev_key: object = None
        for seg in segs:
            key = (seg.shifts, seg.drc, seg.people, seg.certified)
            if key == prev_key:
                last = out[-1]
                out[-1] = CoverageInterval(
                    last.start, seg.end, last.shifts, last.drc, last.on_site, last.certified_on_site
                )
            else:
                out.append(
                    CoverageInterval(
                        seg.start,
                        seg.end,
                        tuple(names[i] for i in seg.shifts),
                        seg.drc,
                        seg.people,
                        seg.certified,
                    )
                )
            prev_key = key
        return tuple(out)

    def class_spans(self, contexts: list[_Context]) -> tuple[ClassSpan, ...]:
        spans: list[ClassSpan] = []
        for i, c in enumerate(contexts):
            end = contexts[i + 1].start if i + 1 < len(contexts) else self.period_end
            rules = c.rules
            spans.append(
                ClassSpan(
                    c.start,
                    end,
                    rules.show(c.facility_class),
                    {r: rules.show(g) for r, g in c.required.items()},
                    rules.title if c.in_force else None,
                    rules.version if c.in_force else None,
                    rules.effective_from if c.in_force else None,
                    rules.statement if c.in_force else None,
                )
            )
        return tuple(spans)
