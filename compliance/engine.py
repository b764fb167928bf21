"""The compliance engine: facts in, coverage and findings out. Pure: no database, no clock.

How it works: every instant where something may change (a shift or an on-site interval
starting or ending, a certificate coming into or out of effect, a class or rule set taking
effect) is a boundary. One sweep over the sorted boundaries cuts the period into segments in
which nothing changes, so each rule is judged once per segment; each logbook entry then
finds its segment by bisection. The cost is O((B + E) log B) for B boundaries and E entries,
instead of E x shifts.
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

from compliance.grades import Grade
from compliance.model import Certificate, Entry, Operator, Role, Scenario
from compliance.qualification import (
    EMPTY_TIMELINE,
    Timeline,
    add_years,
    build_timeline,
    certificate_window,
    explain,
    static_problem,
)
from compliance.report import ClassSpan, CoverageInterval, EntryStamp, Finding, Report
from compliance.rulesets import (
    CERTIFICATE_EXPIRING,
    CERTIFIED_ON_SITE,
    COUNTERSIGN_MISSING,
    DRC_MISSING,
    DRC_UNQUALIFIED,
    GRANDFATHER_LAPSE,
    GRANDFATHER_LAPSE_CITATION,
    NO_RULE_SET,
    RENEWAL_TRAINING,
    RULE_IDS,
    RULE_SETS,
    WARNINGS,
    RuleSet,
    rule_set_at,
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


@dataclass(slots=True)
class _Segment:
    start: datetime
    end: datetime
    ctx: _Context
    shifts: tuple[int, ...]
    on_site: tuple[tuple[str, str], ...]
    drc: tuple[str, ...]
    people: tuple[str, ...]
    certified: tuple[str, ...]
    run: int = 0  # id of the run of consecutive segments sharing "no one certified on site"
    # The crews of the active shifts (on site or not), their roles, and who of them may
    # countersign (certified, and on duty in a role other than trainee).
    duty: Mapping[str, frozenset[str]] = field(default_factory=dict)
    duty_certified: frozenset[str] = frozenset()
    signers: frozenset[str] = frozenset()


# (rule, operators, role): consecutive segments with the same key are one finding.
_FindingKey = tuple[str, tuple[str, ...], str]
# An author on a set of shifts (indexes): their entries that want a countersignature are one
# finding, each with its problem and why it needs one.
_AuthorOnShifts = tuple[str, tuple[int, ...]]
_Unsigned = tuple[Entry, str, str]


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
        self.findings: list[Finding] = []
        self.crew_operators = {
            member.operator for shift in scenario.shifts for member in shift.crew
        }
        # R317-10-4 I: where only one operator is employed, that operator is in DRC.
        self.sole_operator = (
            next(iter(self.crew_operators)) if len(self.crew_operators) == 1 else None
        )

    # --- lookups -----------------------------------------------------------------------

    def timeline(self, op_id: str, rules: RuleSet) -> Timeline:
        key = (op_id, id(rules))
        timeline = self._timelines.get(key)
        if timeline is None:
            op = self.operator_by_id.get(op_id)
            timeline = build_timeline(op, self.facility, rules) if op else EMPTY_TIMELINE
            self._timelines[key] = timeline
        return timeline

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
        prev_uncertified = False
        duty_cache: dict[tuple[int, ...], tuple[dict[str, frozenset[str]], frozenset[str]]] = {}
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
            drc = tuple(sorted({op for op, role in on_site if role == "drc"}))
            if not drc and ctx.rules.sole_operator_is_drc and self.sole_operator in people:
                drc = (self.sole_operator,)
            certified = tuple(op for op in people if self.timeline(op, ctx.rules).certified(t))
            uncertified = not certified
            if uncertified and not prev_uncertified:
                run += 1
            prev_uncertified = uncertified
            shift_key = tuple(sorted(active))
            cached = duty_cache.get(shift_key)
            if cached is None:
                roles: dict[str, set[str]] = defaultdict(set)
                for index in shift_key:
                    for member in self.scenario.shifts[index].crew:
                        roles[member.operator].add(member.role)
                staff = frozenset(op for op, held in roles.items() if held - {"trainee"})
                cached = duty_cache[shift_key] = (
                    {op: frozenset(held) for op, held in roles.items()},
                    staff,
                )
            duty, staff = cached
            duty_certified = frozenset(
                op for op in duty if self.timeline(op, ctx.rules).certified(t)
            )
            signers = duty_certified & staff
            segs.append(
                _Segment(
                    t,
                    t_next,
                    ctx,
                    shift_key,
                    on_site,
                    drc,
                    people,
                    certified,
                    run,
                    duty,
                    duty_certified,
                    signers,
                )
            )
        return segs

    # --- time-based rules --------------------------------------------------------------

    def judge_segments(self, segs: list[_Segment]) -> None:
        open_findings: dict[_FindingKey, _OpenFinding] = {}
        for seg in segs:
            keys: list[_FindingKey] = []
            ctx = seg.ctx
            if seg.shifts and ctx.in_force:
                required = ctx.required
                if not seg.drc:
                    keys.append((DRC_MISSING, (), ""))
                elif not any(
                    self.timeline(op, ctx.rules).meets(seg.start, required["drc"]) for op in seg.drc
                ):
                    keys.append((DRC_UNQUALIFIED, seg.drc, "drc"))
                for op, role in seg.on_site:
                    role_rule = ctx.rules.role_rules.get(role)  # type: ignore[call-overload]
                    need = required.get(role)  # type: ignore[call-overload]
                    if (
                        role_rule
                        and need
                        and not self.timeline(op, ctx.rules).meets(seg.start, need)
                    ):
                        keys.append((role_rule.rule, (op,), role))
            if seg.shifts and not ctx.in_force:
                keys.append((NO_RULE_SET, (), ""))
            present = set(keys)
            for key in [k for k in open_findings if k not in present]:
                self.close(key, open_findings.pop(key))
            for key in keys:
                finding = open_findings.get(key)
                if finding is None or finding.end != seg.start:
                    if finding is not None:
                        self.close(key, finding)
                    finding = open_findings[key] = _OpenFinding(seg.start, seg.end, ctx)
                finding.end = seg.end
                finding.shifts.update(seg.shifts)
        for key, finding in open_findings.items():
            self.close(key, finding)

    def close(self, key: _FindingKey, finding: _OpenFinding) -> None:
        rule, ops, role = key
        tz, ctx = self.tz, finding.ctx
        rules = ctx.rules
        span = human_span(finding.start, finding.end, tz)
        duration = human_duration(finding.end - finding.start)
        shifts = self.shift_names(finding.shifts)
        plant = self.describe(ctx)
        if rule == DRC_MISSING:
            msg = (
                f"No one in direct responsible charge was on site from {span} ({duration}), "
                f"shift {shifts}. Someone in DRC must be on site at every moment of operation."
            )
            citation = rules.citation(rule)
        elif rule == DRC_UNQUALIFIED:
            why = "; ".join(
                f"{self.label(op)}: " + self.explain(op, rules, finding.start, ctx.required["drc"])
                for op in ops
            )
            msg = (
                f"The operator in DRC from {span} ({duration}), shift {shifts}, was not "
                f"qualified for this {plant}: {why}."
            )
            citation = rules.citation(rule)
        elif rule == NO_RULE_SET:
            first = min((v.effective_from for v in self.versions if v.effective_from), default=None)
            msg = (
                f"From {span} no {self.scenario.rules} rule set is on record "
                f"(the earliest takes effect {first}); these hours were not judged."
            )
            citation = rules.citation(rule)
        else:
            need = ctx.required[role]  # type: ignore[index]
            why = self.explain(ops[0], rules, finding.start, need)
            msg = (
                f"{self.label(ops[0])}, {ROLE_NAMES[role]} on shift {shifts} from {span} "
                f"({duration}), does not hold grade {rules.show(need)}, the minimum for the "
                f"{ROLE_NAMES[role]} of this {plant}: {why}."
            )
            citation = rules.role_rules[role].citation  # type: ignore[index]
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
        severity = "warning" if rule in WARNINGS else "violation"
        self.findings.append(
            Finding(rule, severity, start, end, tuple(ops), tuple(entries), message, citation)
        )

    # --- entries -----------------------------------------------------------------------

    def judge_entries(self, segs: list[_Segment]) -> tuple[list[EntryStamp], list[str]]:
        period_start, period_end = self.period_start, self.period_end
        starts = [seg.start for seg in segs]
        stamps: list[EntryStamp] = []
        outside: list[str] = []
        no_certified: dict[int, list[Entry]] = defaultdict(list)
        unsigned: dict[_AuthorOnShifts, list[_Unsigned]] = defaultdict(list)
        first_seg: dict[_AuthorOnShifts, _Segment] = {}
        stamp = stamps.append
        # The hot loop: one bisection per entry, then set lookups on its segment.
        for entry in self.scenario.entries:
            t = entry.time
            if t < period_start or t >= period_end:
                outside.append(entry.id)
                continue
            seg = segs[bisect_right(starts, t) - 1]
            stamp(EntryStamp(entry.id, t, seg.certified, seg.drc))
            operational = entry.operational
            if operational and not seg.certified:
                no_certified[seg.run].append(entry)
            author = entry.author
            roles = seg.duty.get(author)
            if roles is not None:
                is_trainee = "trainee" in roles
                # An uncertified author's operational entry needs verification like a
                # trainee's (competency framework, emerging level).
                needs = is_trainee or (operational and author not in seg.duty_certified)
            else:
                is_trainee = False
                needs = operational and not self.timeline(author, seg.ctx.rules).certified(t)
            if not needs:
                continue
            countersigner = entry.countersigned_by
            if (
                countersigner is not None
                and countersigner != author
                and countersigner in seg.signers
            ):
                continue
            problem = self.countersign_problem(entry, seg)
            key = (author, seg.shifts)
            first_seg.setdefault(key, seg)
            unsigned[key].append(
                (entry, problem, "trainee" if is_trainee else "not certified then")
            )
        self.entry_findings(segs, no_certified, unsigned, first_seg)
        return stamps, outside

    def countersign_problem(self, entry: Entry, seg: _Segment) -> str:
        countersigner = entry.countersigned_by
        if not countersigner:
            return "not countersigned"
        if countersigner == entry.author:
            return "countersigned by its own author"
        who = self.label(countersigner)
        if not (seg.duty.get(countersigner, frozenset()) - {"trainee"}):
            return f"countersigned by {who}, who was not on duty"
        return f"countersigned by {who}, who held no valid certificate then"

    def entry_findings(
        self,
        segs: list[_Segment],
        no_certified: Mapping[int, list[Entry]],
        unsigned: Mapping[_AuthorOnShifts, list[_Unsigned]],
        first_seg: Mapping[_AuthorOnShifts, _Segment],
    ) -> None:
        tz = self.tz
        if no_certified:
            run_span: dict[int, list[datetime]] = {}
            run_rules: dict[int, RuleSet] = {}
            for seg in segs:
                if seg.run in no_certified and not seg.certified:
                    span = run_span.setdefault(seg.run, [seg.start, seg.end])
                    span[1] = seg.end
                    run_rules.setdefault(seg.run, seg.ctx.rules)
            for run, entries in no_certified.items():
                start, end = run_span[run]
                rules = run_rules[run]
                ids = [entry.id for entry in entries]
                authors = sorted({entry.author for entry in entries})
                n = len(ids)
                msg = (
                    f"No certified operator was on site from {human_span(start, end, tz)}, yet "
                    f"{n} operational entr{'y was' if n == 1 else 'ies were'} made "
                    f"({self._list(ids)}) by {self.labels(authors)}. A certified operator must "
                    "be present whenever operational activity is undertaken."
                )
                self.add(
                    CERTIFIED_ON_SITE,
                    start,
                    end,
                    authors,
                    ids,
                    msg,
                    rules.citation(CERTIFIED_ON_SITE),
                )
        for (author, shift_indexes), items in unsigned.items():
            first, last = items[0][0].time, items[-1][0].time
            seg = first_seg[(author, shift_indexes)]
            where = f" on shift {self.shift_names(shift_indexes)}" if shift_indexes else ""
            detail = "; ".join(f"{entry.id} {problem}" for entry, problem, _ in items[:_MAX_LISTED])
            who = items[0][2]
            more = f"; and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
            n = len(items)
            msg = (
                f"{n} entr{'y' if n == 1 else 'ies'} by {self.label(author)} ({who}){where}, "
                f"{human_local(first, tz)}"
                + (f" to {human_local(last, tz)}" if last != first else "")
                + f", need{'s' if n == 1 else ''} a countersignature by a certified operator on "
                f"duty: {detail}{more}."
            )
            self.add(
                COUNTERSIGN_MISSING,
                first,
                last,
                [author],
                [entry.id for entry, _, _ in items],
                msg,
                seg.ctx.rules.citation(COUNTERSIGN_MISSING),
            )

    @staticmethod
    def _list(ids: Sequence[str]) -> str:
        shown = ", ".join(ids[:_MAX_LISTED])
        return shown + (f" and {len(ids) - _MAX_LISTED} more" if len(ids) > _MAX_LISTED else "")

    # --- certificates: expiry and renewal training -------------------------------------

    def judge_certificates(self, contexts: list[_Context]) -> None:
        facility = self.facility
        rules = contexts[-1].rules
        horizon_end = self.period_end + self.scenario.expiry_horizon
        for op in self.scenario.operators:
            for cert in op.certificates:
                if static_problem(cert, facility, rules) is not None or cert.kind == "provisional":
                    continue
                _, end = certificate_window(cert, facility, rules)
                if not (self.period_start < end <= horizon_end) or self.renewed(op, cert):
                    continue
                label = f"{cert.category.replace('_', ' ')} {rules.show(cert.grade)} ({cert.id})"
                days = (end - self.period_end).days
                after = f", {days} days after this period" if end > self.period_end else ""
                citation = rules.citation(CERTIFICATE_EXPIRING)
                if end < end_of_local_day(cert.expires, self.tz):
                    citation = GRANDFATHER_LAPSE_CITATION
                    # A grandfather certificate cut short by a process addition.
                    last = (end - timedelta(microseconds=1)).astimezone(self.tz).date()
                    when = "stopped" if end <= self.period_end else "stops"
                    msg = (
                        f"{op.label()}'s grandfather {label} certificate {when} qualifying at "
                        f"the end of {last.isoformat()}{after}: one year after a process was "
                        f"added to the facility ({GRANDFATHER_LAPSE}). A restricted or full "
                        "certificate is needed by then."
                    )
                else:
                    when = "expired" if end <= self.period_end else "expires"
                    msg = (
                        f"{op.label()}'s {label} certificate {when} at the end of "
                        f"{cert.expires.isoformat()}{after}; no renewed certificate is on "
                        f"record. An expired certificate does not qualify its holder. "
                        f"{rules.expiry_note}"
                    ).rstrip()
                start = max(self.period_start, end - self.scenario.expiry_horizon)
                self.add(
                    CERTIFICATE_EXPIRING,
                    start,
                    end,
                    [op.id],
                    [],
                    msg,
                    citation,
                )
                self.renewal(op, cert, rules, end)

    def renewed(self, op: Operator, cert: Certificate) -> bool:
        """Whether a later certificate of the same kind of work continues this one."""
        for other in op.certificates:
            if (
                other is not cert
                and other.state == cert.state
                and other.category == cert.category
                and other.kind in ("full", "grandfather")
                and other.grade.satisfies(cert.grade)
                and other.issued <= cert.expires + timedelta(days=1)
                and other.expires > cert.expires
            ):
                return True
        return False

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
            rules.citation(RENEWAL_TRAINING),
        )

    # --- putting it together -----------------------------------------------------------

    def run(self) -> Report:
        contexts = self.contexts()
        segs = self.segments(contexts)
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
            spans.append(
                ClassSpan(
                    c.start,
                    end,
                    c.rules.show(c.facility_class),
                    {r: c.rules.show(g) for r, g in c.required.items()},
                    c.rules.title if c.in_force else None,
                )
            )
        return tuple(spans)
