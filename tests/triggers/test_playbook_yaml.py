"""Playbook YAML: the bundled starter validates, and every mistake names its line and field."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tonewatch._errors import RuleValidationError
from tonewatch.act import ACTION_TIERS, Tier
from tonewatch.triggers import load_playbook, parse_playbook
from tonewatch.triggers._vocabulary import EMOTIONS, LABELS, SENTIMENTS


def _playbook(body: str) -> str:
    return "version: 1\nname: t\nrules:\n" + textwrap.indent(textwrap.dedent(body), "  ")


def _error(body: str) -> RuleValidationError:
    with pytest.raises(RuleValidationError) as info:
        parse_playbook(_playbook(body), "rules.yaml")
    return info.value


def test_the_starter_playbook_validates_and_covers_the_intervention_points() -> None:
    playbook = load_playbook(None)
    ids = {r.id for r in playbook.rules}
    assert {
        "sharp-drop-mid-conversation",
        "third-contact-same-issue",
        "silence-after-negative",
        "at-risk-renewal",
        "polite-escalation",
        "silent-churner",
    } <= ids
    assert playbook.rule("third-contact-same-issue").cooldown == timedelta(days=14)
    assert playbook.rule("silence-after-negative").on == frozenset({"sweep"})
    tiers = {a.type: a.tier for r in playbook.rules for a in r.then}
    assert tiers["retention_offer"] is Tier.HUMAN
    assert tiers["check_in"] is Tier.APPROVE
    assert tiers["tag"] is Tier.AUTOMATIC


def test_a_valid_rule_with_both_condition_spellings() -> None:
    playbook = parse_playbook(
        _playbook(
            """
            - id: new-and-unhappy
              description: New customer, frustrated, more than two tickets in two weeks
              priority: high
              cooldown: 3d
              holdout: 0.2
              on: [message, sweep]
              when:
                all:
                  - segment in [smb, mid-market]
                  - tenure_days < 90
                  - analysis.emotions.frustration > 0.5
                  - {field: trend.declining, eq: true}
                  - count: tickets
                    within: 14d
                    where: {status: opened}
                    gt: 2
                  - not: {field: plan, eq: enterprise}
              then:
                - tag: new-unhappy
                - check_in: {template: repeat_issue, within: 4h}
            """
        )
    )
    rule = playbook.rule("new-and-unhappy")
    assert rule.priority == 2
    assert rule.holdout == 0.2
    assert rule.cooldown == timedelta(days=3)
    assert rule.on == frozenset({"message", "sweep"})
    assert [a.type for a in rule.then] == ["tag", "check_in"]
    assert "tenure_days < 90" in rule.when.describe()


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        (  # an unknown field in a string condition
            """
            - id: r1
              when:
                all:
                  - tenure_days < 90
                  - tenur_days < 90
              then: [tag: x]
            """,
            9,
            "rules[0].when.all[1]",
            "unknown field 'tenur_days'",
        ),
        (  # a misspelt emotion
            """
            - id: r1
              when: analysis.emotions.frustrashun > 0.5
              then: [tag: x]
            """,
            6,
            "rules[0].when",
            "analysis.emotions",
        ),
        (  # a band that does not exist
            """
            - id: r1
              when: band == at_risk
              then: [tag: x]
            """,
            6,
            "rules[0].when",
            "'at_risk' is not a known value of band",
        ),
        (  # a bad window in a count
            """
            - id: r1
              when:
                - count: messages
                  within: fortnight
                  gte: 3
              then: [tag: x]
            """,
            8,
            "rules[0].when[0].within",
            "duration",
        ),
        (  # a rule author trying to downgrade a human-tier action
            """
            - id: r1
              when: trend.declining
              then:
                - retention_offer: {tier: automatic}
            """,
            8,
            "rules[0].then[0].retention_offer.tier",
            "never lower",
        ),
        (  # an unknown action
            """
            - id: r1
              when: trend.declining
              then:
                - send_discount_email: {}
            """,
            8,
            "rules[0].then[0].send_discount_email",
            "unknown action",
        ),
        (  # an unknown key in a rule (pydantic)
            """
            - id: r1
              when: trend.declining
              cooldwn: 7d
              then: [tag: x]
            """,
            7,
            "rules[0].cooldwn",
            "unknown key 'cooldwn'",
        ),
        (  # a bad cooldown value (pydantic validator)
            """
            - id: r1
              when: trend.declining
              cooldown: 7 days
              then: [tag: x]
            """,
            7,
            "rules[0].cooldown",
            "duration",
        ),
        (  # a holdout fraction out of range
            """
            - id: r1
              when: trend.declining
              holdout: 1.5
              then: [tag: x]
            """,
            7,
            "rules[0].holdout",
            "less than 1",
        ),
        (  # missing 'then'
            """
            - id: r1
              when: trend.declining
            """,
            5,
            "rules[0].then",
            "missing required field 'then'",
        ),
        (  # a numeric comparison with a word
            """
            - id: r1
              when: tenure_days < ninety
              then: [tag: x]
            """,
            6,
            "rules[0].when",
            "needs a number",
        ),
        (  # an unknown flag
            """
            - id: r1
              when: flags contains repeat_contacts
              then: [tag: x]
            """,
            6,
            "rules[0].when",
            "not a known value of flags",
        ),
        (  # an action parameter that fails validation
            """
            - id: r1
              when: trend.declining
              then:
                - set_priority: whenever
            """,
            8,
            "rules[0].then[0].set_priority",
            "priority must be one of",
        ),
    ],
)
def test_errors_name_the_line_and_the_field(body: str, line: int, field: str, words: str) -> None:
    err = _error(body)
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"line {line}: {field}: ")


def test_duplicate_rule_ids_and_yaml_syntax_errors_name_their_line() -> None:
    err = _error(
        """
        - id: same
          when: trend.declining
          then: [tag: x]
        - id: same
          when: trend.declining
          then: [tag: y]
        """
    )
    assert err.line == 8
    assert "duplicate rule id 'same'" in str(err)
    with pytest.raises(RuleValidationError) as info:
        parse_playbook("rules:\n  - id: x\n    when: [unclosed\n")
    assert info.value.line is not None
    assert "invalid YAML" in str(info.value)


def test_on_is_a_name_not_a_yaml_boolean() -> None:
    playbook = parse_playbook(_playbook("- id: r\n  on: sweep\n  when: trend.declining\n  then: [tag: x]\n"))
    assert playbook.rule("r").on == frozenset({"sweep"})


def test_playbook_tier_settings_may_raise_but_never_lower() -> None:
    raised = parse_playbook(
        "tiers: {tag: approve}\nrules:\n  - id: r\n    when: trend.declining\n    then: [tag: x, alert: hi]\n"
    )
    assert [a.tier for a in raised.rule("r").then] == [Tier.APPROVE, Tier.AUTOMATIC]
    with pytest.raises(RuleValidationError) as info:
        parse_playbook(
            "tiers:\n  check_in: automatic\nrules:\n  - id: r\n    when: trend.declining\n    then: [tag: x]\n"
        )
    assert info.value.line == 2
    assert info.value.field == "tiers.check_in"


def test_load_playbook_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuleValidationError, match="not found"):
        load_playbook(tmp_path / "nope.yaml")


def test_every_action_type_has_a_fixed_tier() -> None:
    assert ACTION_TIERS["check_in"] is Tier.APPROVE
    assert {k for k, v in ACTION_TIERS.items() if v is Tier.HUMAN} == {
        "retention_offer",
        "discount",
        "executive_escalation",
    }


def test_the_mirrored_vocabulary_matches_the_scoring_stage() -> None:
    from tonewatch.score import _analysis

    assert tuple(_analysis.LABELS) == LABELS
    assert tuple(_analysis.SENTIMENTS) == SENTIMENTS
    assert tuple(_analysis.EMOTIONS) == EMOTIONS
