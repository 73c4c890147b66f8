"""The tonal layer's detectors: transparent, hand-written cues found in the original text.

A neural model reads words; support language also speaks through tone: hedges ("I guess it
works fine"), understatement ("not ideal"), litotes ("not the worst"), sarcasm ("Oh great,
another delay"), polite-formal escalation ("Please advise ... outstanding for 14 business
days"), repeat contact, threats to cancel, shouting in capitals, "!!!" and "???". Each
detector is a plain regular expression (all compiled together, on first use) or a few
lines of code, so every cue can be shown to a user with its span and offsets.

Each :class:`CueRule` says what its cues do (applied in ``_tonal.py``):

* ``transfers``: ``(source, destination, fraction)`` moves of sentiment probability mass,
  scaled by the match's strength; ``"dominant"`` means whichever of positive/negative
  already leads (intensifiers, caps, "!!!" amplify, they do not choose a side). No rule
  moves more than 85% of one class's mass.
* ``scope``: ``"sentence"`` cues act on their sentence fully and on the whole text in
  proportion to the sentence's share of it; ``"text"`` cues (escalation, repeat contact,
  waits, cancellation and legal threats, brevity, all-caps text) characterise the whole
  message and act on it fully.
* ``urgency`` and ``emotions``: what the cue adds to urgency and to the support emotions.
* ``context``: sarcasm patterns such as "Great," or "love how" only count next to a
  description of something gone wrong ("required"), or count more there ("bonus").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ._analysis import CueDirection

__all__ = [
    "ACRONYMS",
    "RULES",
    "CueMatch",
    "CueRule",
    "find_cues",
    "is_courtesy",
    "negative_context",
    "warm_up",
]

Transfer = tuple[str, str, float]
Context = Literal["", "bonus", "required"]
Scope = Literal["sentence", "text"]


@dataclass(frozen=True, slots=True)
class CueRule:
    """One detector and what its cues do to the scores."""

    kind: str
    name: str
    pattern: str
    direction: CueDirection | None  # None: follows the sentence's leading polarity
    transfers: tuple[Transfer, ...] = ()
    emotions: tuple[tuple[str, float], ...] = ()
    urgency: float = 0.0
    strength: float = 1.0
    context: Context = ""
    scope: Scope = "sentence"


@dataclass(frozen=True, slots=True)
class CueMatch:
    """A rule that matched ``text[start:end]`` in sentence ``unit`` with ``strength`` in (0, 1]."""

    rule: CueRule
    start: int
    end: int
    unit: int
    strength: float


_TO_NEG: tuple[Transfer, ...] = (("positive", "negative", 0.5), ("neutral", "negative", 0.4))
_TO_NEG_STRONG: tuple[Transfer, ...] = (("positive", "negative", 0.6), ("neutral", "negative", 0.5))
_TO_NEG_MILD: tuple[Transfer, ...] = (("positive", "negative", 0.4), ("neutral", "negative", 0.35))


class _Profile(NamedTuple):
    """What every pattern of one profile does (see the module docstring)."""

    kind: str
    direction: CueDirection | None
    transfers: tuple[Transfer, ...] = ()
    emotions: tuple[tuple[str, float], ...] = ()
    urgency: float = 0.0
    scope: Scope = "sentence"


_PROFILES: Mapping[str, _Profile] = {
    "hedge": _Profile("hedge", "neutral", (("positive", "neutral", 0.75),)),
    "understatement": _Profile("understatement", "negative", _TO_NEG_STRONG, (("disappointment", 0.3),)),
    "negation+": _Profile("negation", "positive", (("negative", "neutral", 0.45), ("negative", "positive", 0.35))),
    "negation-": _Profile(
        "negation", "negative", (("positive", "negative", 0.6), ("neutral", "negative", 0.35)), (("frustration", 0.15),)
    ),
    "sarcasm": _Profile(
        "sarcasm",
        "negative",
        (("positive", "negative", 0.85), ("neutral", "negative", 0.3)),
        (("frustration", 0.4),),
        0.05,
    ),
    "polite-escalation": _Profile(
        "polite-escalation",
        "negative",
        (("positive", "negative", 0.5), ("neutral", "negative", 0.45)),
        (("frustration", 0.25),),
        0.35,
        "text",
    ),
    "escalation": _Profile("escalation", "negative", _TO_NEG, (("anger", 0.25), ("frustration", 0.2)), 0.35, "text"),
    "wait-time": _Profile("wait-time", "urgent", _TO_NEG_MILD, (("frustration", 0.3),), 0.75, "text"),
    "repeat-contact": _Profile("repeat-contact", "negative", _TO_NEG, (("frustration", 0.4),), 0.5, "text"),
    "cancellation": _Profile("cancellation", "negative", _TO_NEG_STRONG, (("disappointment", 0.3),), 0.55, "text"),
    "legal": _Profile("legal", "negative", _TO_NEG_STRONG, (("anger", 0.3),), 0.65, "text"),
    "deadline": _Profile("deadline", "urgent", (), (("worry", 0.2),), 0.45, "text"),
    "blocked": _Profile(
        "blocked",
        "urgent",
        (("positive", "negative", 0.35), ("neutral", "negative", 0.3)),
        (("frustration", 0.25),),
        0.5,
    ),
    "intensifier": _Profile("intensifier", None, (("neutral", "dominant", 0.2),)),
    "caps": _Profile("caps", None, (("neutral", "dominant", 0.3),), (("anger", 0.25),), 0.15),
    "caps-text": _Profile("caps", None, (("neutral", "dominant", 0.3),), (("anger", 0.3),), 0.2, "text"),
    "punctuation-run": _Profile(
        "punctuation-run", None, (("neutral", "dominant", 0.25),), (("frustration", 0.1),), 0.1
    ),
    "question-run": _Profile("punctuation-run", None, (("neutral", "dominant", 0.15),), (("confusion", 0.25),), 0.1),
    "brevity": _Profile("brevity", "neutral", (("positive", "neutral", 0.6),), (), 0.0, "text"),
    "emoji+": _Profile("emoji", "positive", (("neutral", "positive", 0.3),), (("joy", 0.2),)),
    "emoji-": _Profile(
        "emoji",
        "negative",
        (("positive", "negative", 0.4), ("neutral", "negative", 0.3)),
        (("frustration", 0.2),),
        0.05,
    ),
    "emoji?": _Profile("emoji", "neutral", (), (("confusion", 0.3),)),
}


# Apostrophes in patterns match both ' and ’.
def _rx(pattern: str) -> str:
    return pattern.replace("'", "['’]")


_NUM = (
    r"\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty|thirty|several"
    r"|many|a few|few|multiple|numerous"
)
_POS_ADJ = (
    r"great|wonderful|fantastic|perfect|brilliant|lovely|awesome|nice|super|excellent|terrific|marvell?ous|splendid"
    r"|fabulous|amazing|superb"
)

# (profile, pattern, strength, context) -- context: "" none, "bonus" (stronger with a complaint nearby,
# dropped next to thanks), "required" (only with a complaint in the sentence or its neighbours).
_PATTERNS: tuple[tuple[str, str, float, Context], ...] = (
    # hedges: lukewarm or uncommitted praise is not praise
    ("hedge", r"\bI (?:guess|suppose|reckon)\b", 0.9, ""),
    (
        "hedge",
        r"(?<!\bwhat )(?<!\bthis )(?<!\bthat )(?<!\bany )(?<!\bsome )(?<!\bthe )(?<!\ba )(?<!\bwhich )(?<!\bsame )(?<"
        r"!\bevery )\b(?:kind"
        r"|sort) of\b",
        0.7,
        "",
    ),
    ("hedge", r"\b(?:kinda|sorta|more or less|for the most part|supposedly|so-so|meh)\b", 0.7, ""),
    ("hedge", r"\b(?:seems?|appears?) to (?:work|be (?:working|fine|ok|okay|alright|acceptable))\b", 0.6, ""),
    ("hedge", r"\b(?:good|fine|ok|okay) enough\b|\bI can live with (?:it|that)\b", 0.7, ""),
    ("hedge", r"\bnothing (?:special|spectacular|to write home about)\b", 0.85, ""),
    ("hedge", r"\bnot (?:great|good),? (?:but )?not (?:terrible|bad|awful)\b", 0.9, ""),
    (
        "hedge",
        r"\bI think (?:it|this|that)(?:'s| is| was)? (?:\w+ )?(?:fine|ok|okay|alright|acceptable|working)\b",
        0.6,
        "",
    ),
    ("hedge", r"\b(?:works|working|fine|ok|okay) for now\b|\bhopefully\b|\bit mostly works\b", 0.5, ""),
    # understatement: mild words for a real complaint
    (
        "understatement",
        r"\b(?:not|isn't|wasn't|aren't|weren't|hardly) (?:exactly |quite |very |particularly |really |entirely "
        r"|the most |that |so |too |super )?(?:ideal|great|stellar|impressive|brilliant|amazing|helpful|useful|fast"
        r"|quick|smooth|intuitive|user[- ]friendly|reassuring|encouraging|what I (?:expected|was expecting|paid for"
        r"|hoped for|ordered|asked for)|the (?:best|greatest|smoothest|fastest|easiest))\b",
        0.8,
        "",
    ),
    (
        "understatement",
        r"\b(?:less than|far from) (?:ideal|perfect|great|helpful|satisfactory|satisfied|impressed|happy|pleased"
        r"|stellar|smooth|acceptable)\b",
        0.85,
        "",
    ),
    (
        "understatement",
        r"\bcould (?:have been|be|have gone) (?:a (?:lot|little|bit) |much |way |slightly )?(?:better|smoother"
        r"|faster)\b",
        0.7,
        "",
    ),
    (
        "understatement",
        r"\bleaves? (?:a lot|much|something|a bit) to be desired\b|\bI(?:'ve| have) (?:had|seen) better\b",
        0.9,
        "",
    ),
    (
        "understatement",
        r"\b(?:a (?:bit|little|tad)|slightly|somewhat|rather|quite|mildly) (?:disappointing|disappointed|frustrating"
        r"|frustrated|annoying|annoyed|concerning|concerned|confusing|confused|slow|inconvenient|unhappy|upset"
        r"|worrying|worried|underwhelming|underwhelmed|irritated|irritating|let down|puzzled|pricey|expensive|steep"
        r"|unclear)\b",
        0.8,
        "",
    ),
    (
        "understatement",
        r"\b(?:expected|was expecting|were expecting|hoped for|was hoping for|were hoping for) (?:better|more"
        r"|a bit more|a lot more|much more)\b",
        0.8,
        "",
    ),
    (
        "understatement",
        r"\b(?:not|isn't|wasn't) (?:quite )?(?:up to (?:par|scratch|standard)|as (?:advertised|described|promised))\b"
        r"|\bunderwhelm(?:ed|ing)\b",
        0.85,
        "",
    ),
    # negation of a negative (litotes): "no problems", "not the worst"
    (
        "negation+",
        r"\bno (?:real |major |big |serious |more |further |other )?(?:problems?|issues?|complaints?|trouble|hassle"
        r"|worries|concerns|hiccups?|glitch(?:es)?|errors?|delays?|downtime|crashes)\b",
        0.9,
        "",
    ),
    (
        "negation+",
        r"\bnever (?:had|have|has|experienced|seen|encountered|ran into|run into) (?:a |an |any |one "
        r"|a single )?(?:problems?|issues?|complaints?|trouble|hiccups?|glitch(?:es)?|bad experience)\b(?!\s+(?:until"
        r"|till|before)\b)",
        0.9,
        "",
    ),
    (
        "negation+",
        r"\b(?:didn't|did not|haven't|have not|hasn't|has not|don't|do not|doesn't|does not|wouldn't) (?:have |had "
        r"|run into |encounter(?:ed)? |experience(?:d)? |see |notice(?:d)? |face(?:d)? )?(?:any |a single |a "
        r"|one )?(?:problems?|issues?|complaints?|trouble|hiccups?|glitch(?:es)?|hassle)\b",
        0.85,
        "",
    ),
    (
        "negation+",
        r"\bnothing (?:to complain about|went wrong|bad to say|negative)\b|\b(?:can't|cannot|can not"
        r"|couldn't) complain\b",
        0.9,
        "",
    ),
    (
        "negation+",
        r"\b(?:not|isn't|wasn't|was not|is not|hasn't been|has not been|never been|ain't) (?:the |that |too |so |as "
        r"|all that |half |at all |really )?(?:worst|bad|terrible|awful|horrible|horrendous|disappointing|disappointed"
        r"|unhappy|upset|a (?:problem|issue|hassle|big deal)|an issue|difficult|hard|complicated)\b",
        0.85,
        "",
    ),
    ("negation+", r"\bcould (?:have been|be) (?:a lot |much |way )?worse\b", 0.7, ""),
    (
        "negation+",
        r"\b(?:without|zero) (?:any |a |a single )?(?:problems?|issues?|hassle|trouble|complaints?|hiccups?|errors?"
        r"|glitch(?:es)?|delays?|fuss|downtime|crashes)\b",
        0.85,
        "",
    ),
    # negation of a positive
    (
        "negation-",
        r"\b(?:not|never|isn't|wasn't|aren't|weren't|no longer) (?:very |really |at all |particularly |too |so |that "
        r"|entirely |completely |fully |even |yet )?(?:happy|pleased|satisfied|impressed|working|resolved|fixed"
        r"|acceptable|okay|ok|functional|usable|reliable|received|delivered|refunded|answered|solved|sorted|correct"
        r"|responsive)\b",
        0.8,
        "",
    ),
    (
        "negation-",
        r"\b(?:doesn't|does not|didn't|did not|won't|will not|wouldn't|can't|cannot|can not|couldn't|still not"
        r"|still doesn't|still won't|never) (?:even |actually |really )?(?:work|load|open|start|boot|help|connect|sync"
        r"|respond|arrive|arrived|show up|update|install|turn on|print|function|save)\b",
        0.7,
        "",
    ),
    # sarcasm
    ("sarcasm", rf"\b(?:oh|ah|wow|gee|well),? (?:{_POS_ADJ}|joy|goody)\b", 0.6, "bonus"),
    ("sarcasm", rf"(?:^|(?<=[.!?…]\s)|(?<=\n))\s*(?:{_POS_ADJ}|cool|fine)\s*[,.!…]+(?=\s|$)", 0.8, "required"),
    ("sarcasm", rf"\bjust (?:{_POS_ADJ}|what I (?:needed|wanted|was hoping for))\b", 0.7, "bonus"),
    ("sarcasm", r"\byeah,? right\b|(?:^|\s)/s\b", 0.85, ""),
    (
        "sarcasm",
        r"\bthanks? (?:you )?(?:so much |very much |a lot )?for (?:nothing|ruining|wasting|losing|ignoring|cancel+ing"
        r"|breaking|charging me twice|the runaround|making (?:me|my|this))\b",
        0.95,
        "",
    ),
    ("sarcasm", r"\bthanks a (?:lot|bunch|million)\b", 0.7, "required"),
    (
        "sarcasm",
        rf"\bwhat an? (?:{_POS_ADJ}|pleasant|fun|nice) (?:experience|service|way|start|surprise|job|joke|welcome"
        rf"|company|treat|support)\b",
        0.75,
        "required",
    ),
    (
        "sarcasm",
        r"\b(?:I )?(?:just |really |absolutely |simply )?love (?:it )?(?:when|how|that|the way|being|waiting|getting"
        r"|paying|spending|having to)\b",
        0.75,
        "required",
    ),
    ("sarcasm", rf"\b(?:{_POS_ADJ}|good|fine) (?:job|work|service|going|move|one)\b", 0.65, "required"),
    ("sarcasm", r"\bhow (?:wonderful|lovely|nice|great|convenient|thoughtful|helpful|fun)\b", 0.7, "required"),
    ("sarcasm", r"\bcouldn't be (?:happier|more (?:thrilled|pleased|delighted))\b", 0.8, "required"),
    (
        "sarcasm",
        r"[\"“](?:help|helpful|support|service|customer service|express|fast|quick|premium|priority|guaranteed|free"
        r"|24/7|solution|fix|fixed|resolved|update)[\"”]",
        0.6,
        "",
    ),
    # polite-formal escalation
    ("polite-escalation", r"\bplease advise\b", 0.8, ""),
    (
        "polite-escalation",
        r"\bkindly (?:advise|update|confirm|revert|respond|reply|look into|expedite|escalate|provide|arrange|process"
        r"|resolve|clarify|explain|share|send|let (?:me|us) know)\b",
        0.7,
        "",
    ),
    ("polite-escalation", r"\bat your earliest (?:convenience|opportunity)\b", 0.6, ""),
    (
        "polite-escalation",
        r"\bI (?:would|'d) (?:appreciate|be grateful for|welcome) (?:a |an |your )?(?:prompt|swift|urgent|immediate"
        r"|timely|quick|speedy|rapid) (?:response|reply|update|resolution|answer|attention|action)\b",
        0.8,
        "",
    ),
    (
        "polite-escalation",
        r"\b(?:as per|further to|following up on|with reference to|in reference to|regarding) (?:my|our) (?:previous"
        r"|last|earlier|prior|original) (?:email|e-mail|message|mail|correspondence|request|letter|call|ticket)s?\b",
        0.7,
        "",
    ),
    (
        "polite-escalation",
        r"\b(?:please |kindly )?(?:escalate|expedite) (?:this|the matter|my (?:case|ticket|request|complaint)"
        r"|the issue)\b",
        0.8,
        "",
    ),
    ("polite-escalation", r"\bformal(?:ly)? (?:complaint|complain|escalat\w+)\b", 0.9, ""),
    ("polite-escalation", r"\bI (?:must|have to|will have to|need to) (?:insist|escalate|request|ask that)\b", 0.8, ""),
    (
        "polite-escalation",
        r"\b(?:wish|would like|want|intend) to (?:escalate|(?:raise|lodge|file|make|submit) a (?:formal )?complaint)\b",
        0.9,
        "",
    ),
    (
        "polite-escalation",
        r"\b(?:speak|talk) (?:to|with) (?:a |your |the )?(?:manager|supervisor|team lead|superior|someone senior"
        r"|someone in charge)\b",
        0.8,
        "",
    ),
    (
        "polite-escalation",
        r"\b(?:the )?(?:current|latest|present) status (?:of|on)\b|\bI look forward to (?:your|a) (?:prompt |swift "
        r"|timely )?(?:response|reply)\b",
        0.5,
        "",
    ),
    (
        "polite-escalation",
        r"\bI am writing to (?:complain|express my (?:dissatisfaction|disappointment|frustration|concern)|follow up"
        r"|chase)\b",
        0.7,
        "",
    ),
    (
        "escalation",
        r"\b(?:this is|it is|it's|that is|that's) (?:simply |completely |totally |frankly |absolutely "
        r"|just )?(?:unacceptable|not acceptable|inexcusable|unprofessional|ridiculous|outrageous|a joke|a disgrace"
        r"|disgraceful)\b",
        0.8,
        "",
    ),
    ("escalation", r"\bI (?:demand|insist on|expect) (?:a |an |my |the |to )\w+", 0.6, ""),
    # wait time: a wait that has gone on (strength set from the duration, see _duration_strength)
    (
        "wait-time",
        r"\b(?:outstanding|open|pending|unresolved|unanswered|ongoing|waiting|waited|stuck|on hold|in progress|delayed"
        r"|overdue|going on|unpaid|missing|chasing)(?: now)?,? (?:(?:for|since|over) )?(?:over |more than |almost "
        r"|nearly |about |around "
        rf"|at least |well over |the (?:past|last) |a good )?(?P<num>{_NUM}) (?:more |whole |full |entire |long )?"
        r"(?:business |working |calendar )?(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b",
        1.0,
        "",
    ),
    (
        "wait-time",
        r"\b(?:waiting|pending|open|outstanding|unresolved|nothing|no (?:response|reply|update)) since (?:last |early "
        r"|mid |late )?(?:\w+day|week|month|january|february|march|april|may|june|july|august|september|october"
        r"|november|december|\d{1,2}(?:st|nd|rd|th)?|the \d{1,2}(?:st|nd|rd|th)?)\b",
        0.6,
        "",
    ),
    (
        "wait-time",
        r"\bstill (?:no|not|haven't|have not|hasn't|has not|didn't|nobody|no one|nothing|waiting|awaiting|pending"
        r"|unresolved|outstanding|broken|down)\b",
        0.55,
        "",
    ),
    (
        "wait-time",
        r"\bno (?:one|body) (?:has |ever )?(?:got(?:ten)? back|replied|responded|answered|called (?:me )?back"
        r"|contacted me|helped|bothered)\b|\b(?:haven't|have not|hasn't|has not) (?:heard|had|received|gotten"
        r"|got) (?:back|a (?:reply|response)|any (?:reply|response|update|answer|word))\b",
        0.6,
        "",
    ),
    # repeat contact
    (
        "repeat-contact",
        r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|umpteenth|nth|\d+(?:st|nd|rd|th)) (?:attempt|email"
        r"|e-mail|message|request|call|ticket|follow[- ]?up|reminder|chat|incident|outage|failure|complaint)s?\b",
        0.85,
        "",
    ),
    (
        # "the third time I'm writing": an ordinal "time" counts only with a contact verb after it
        "repeat-contact",
        r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|umpteenth|nth|\d+(?:st|nd|rd"
        r"|th)) time,? (?:(?:that |now "
        r"|today |this (?:week|month) )?(?:I|we)(?:'ve|'m|'re| have| am| are)? (?:been |had to |have to "
        r"|now )?)?(?:writ"
        r"|contact|call|ask|reach|email|messag|chat|rais|report|complain|follow|explain|request|chas|tr(?:y|ied)"
        r"|sen[dt]"
        r"|phon|ring|com(?:e|ing) back)\w*",
        0.85,
        "",
    ),
    (
        "repeat-contact",
        r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|umpteenth|nth|\d+(?:st|nd|rd|th)) time (?:this"
        r"|in a) "
        r"(?:week|month|year|row)\b",
        0.7,
        "",
    ),
    (
        "repeat-contact",
        r"\b(?:contacted|called|emailed|e-mailed|written to|written|wrote to|messaged|asked|told|reported|raised"
        r"|chased|explained|sent|submitted|tried)(?: (?:you|this|it|support|your (?:team|support|company|colleagues?)"
        r"|the (?:team|support team|helpdesk)|customer (?:service|support)|about (?:this|it)))*,? (?:(?:\d+|two|three"
        r"|four|five|six|several|multiple|many|numerous|countless|so many|a number of|a dozen) times|twice|repeatedly"
        r"|over and over|again and again)\b",
        0.9,
        "",
    ),
    (
        "repeat-contact",
        r"\balready (?:contacted|called|emailed|written|wrote|messaged|asked|told|reported|raised|explained|sent"
        r"|submitted|provided|given)\b",
        0.6,
        "",
    ),
    (
        "repeat-contact",
        r"\b(?:following|follow) up (?:again|once (?:again|more)|on my (?:previous|last|earlier|prior|original))\b",
        0.75,
        "",
    ),
    ("repeat-contact", r"\b(?:yet|once) again\b|\bagain and again\b|\bover and over\b", 0.5, ""),
    (
        "repeat-contact",
        r"\b(?:multiple|several|many|numerous|repeated|countless|endless|\d+|two|three|four|five|six) (?:previous "
        r"|prior |separate |different )?(?:emails|e-mails|calls|phone calls|messages|requests|tickets|attempts"
        r"|reminders|follow[- ]?ups|chats|complaints)\b",
        0.7,
        "",
    ),
    (
        "repeat-contact",
        r"\b(?:despite|after) (?:(?:my|our|several|repeated|multiple|numerous|countless|many|\d+) )+(?:requests|emails"
        r"|e-mails|calls|attempts|reminders|messages|complaints|follow[- ]?ups)\b|\bevery (?:single )?time I (?:call"
        r"|contact|write|email|ask|chat|try)\b",
        0.8,
        "",
    ),
    (
        "repeat-contact",
        r"\b(?:as per|further to) (?:my|our) (?:previous|last|earlier|prior) (?:email|e-mail|message"
        r"|correspondence)s?\b",
        0.6,
        "",
    ),
    # cancellation / churn threats
    (
        "cancellation",
        r"\bcancel(?:l?ing|l?ed)? (?:my|our|the) (?:subscription|account|membership|plan|contract|service|policy"
        r"|auto[- ]?renewal)\b",
        0.85,
        "",
    ),
    (
        "cancellation",
        r"\b(?:close|closing|terminate|terminating|end|ending|delete|deleting) (?:my|our) (?:account|subscription"
        r"|membership|contract|plan|relationship)\b",
        0.85,
        "",
    ),
    (
        "cancellation",
        r"\b(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?|tak(?:e|ing) (?:my|our) (?:business|money"
        r"|custom)) (?:over )?to (?:a |another |your )?(?:competitors?|competition|someone else|(?:different|another"
        r"|other) (?:provider|company|bank|service|vendor|carrier|airline|supplier|platform)s?)\b|\btak(?:e|ing) (?:my"
        r"|our) (?:business|money|custom) elsewhere\b",
        0.9,
        "",
    ),
    (
        "cancellation",
        r"\b(?:never|not|won't|will not) (?:be )?(?:using|use|buying from|buy from|ordering from|order from"
        r"|flying with|fly with|shopping (?:with|at)|shop (?:with|at)|booking with|book with|recommending|recommend"
        r"|coming back to|come back to|returning to|return to|dealing with|deal with) (?:you|your (?:company|service"
        r"|product|app|airline|store|shop|bank)|this (?:company|service|product|app|airline|store|shop|bank))\b",
        0.8,
        "",
    ),
    (
        "cancellation",
        r"\b(?:want|wish|like|need|going|have decided|decided|plan|planning|intend|thinking about|considering"
        r"|about) to (?:cancel|close|terminate|unsubscribe|leave|switch)\b",
        0.65,
        "",
    ),
    (
        "cancellation",
        r"\b(?:lost|losing) (?:a |me as a |us as a |your )?(?:loyal )?customers?\b(?! (?:data|details))"
        r"|\bunsubscrib(?:e|ing)\b",
        0.7,
        "",
    ),
    # legal threats
    (
        "legal",
        r"\b(?:lawyers?|attorneys?|solicitors?|legal (?:action|proceedings|team|advice|steps|route)|lawsuit|law suit"
        r"|sue|suing|small claims(?: court)?|take (?:you|this|it) to court|court action|chargeback|charge back"
        r"|dispute (?:the|this|my) (?:charge|payment|transaction)|better business bureau|BBB|ombudsman"
        r"|consumer (?:protection|rights|affairs|council)|trading standards|financial conduct authority|FCA|FTC|CFPB"
        r"|attorney general|class action|report (?:you|this) to)\b",
        0.9,
        "",
    ),
    ("legal", r"\b(?:GDPR|data protection (?:authority|officer|regulator)|ICO)\b", 0.5, ""),
    # deadlines and urgency words
    (
        "deadline",
        r"\b(?:urgent(?:ly)?|asap|a\.s\.a\.p|immediately|emergency|time[- ]sensitive|time[- ]critical|top priority"
        r"|without (?:further )?delay)\b",
        0.8,
        "",
    ),
    ("deadline", r"\b(?:right away|right now|straight away|at once|critical|high priority)\b", 0.5, ""),
    (
        "deadline",
        r"\b(?:by|before|until|no later than|latest by|due) (?:the end of |end of |close of )?(?:today|tonight"
        r"|tomorrow(?: morning| afternoon| evening)?|eod|eow|cob|eob|close of business|end of (?:day|the day|week"
        r"|the week|business)|this (?:afternoon|evening|morning|week|friday|weekend)|next (?:monday|tuesday|wednesday"
        r"|thursday|friday|week)|(?:mon|tues|wednes|thurs|fri|satur|sun)day|noon|midnight|\d{1,2}(?::\d{2})?\s?(?:am"
        r"|pm)|the \d{1,2}(?:st|nd|rd|th)|\d{1,2}(?:st|nd|rd|th)?(?: of)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
        r"|nov|dec)\w*)\b",
        0.75,
        "",
    ),
    ("deadline", r"\bdeadline\b|\bdue date\b|\btime is running out\b|\brunning out of time\b", 0.6, ""),
    (
        "deadline",
        r"\b(?:within|in|in the next) (?:the next )?(?:\d+|one|two|a few|an?) (?:hours?|hrs?|minutes?|mins?)\b",
        0.6,
        "",
    ),
    (
        "deadline",
        r"\b(?:my|our|the) (?:flight|trip|event|wedding|launch|presentation|meeting|surgery|exam|interview|appointment"
        r"|go[- ]live|release|demo|payroll|closing|holiday|vacation)\b[^.!?\n]{0,30}?\b(?:today|tonight|tomorrow"
        r"|in (?:\d+|a few|two|three) (?:hours?|days?)|this (?:morning|afternoon|evening|week(?:end)?))\b",
        0.75,
        "",
    ),
    # blocked work
    (
        "blocked",
        r"\b(?:can't|cannot|can not|unable to|not able to|couldn't|could not|won't let me|doesn't let me"
        r"|does not let me|not letting me) (?:even )?(?:log ?in|sign ?in|login|signin|log on|access|use|work|open|pay"
        r"|check ?out|process|ship|send|receive|withdraw|get into|complete|place|submit|download|upload"
        r"|make (?:a )?payments?|run|start|boot|connect|reset|verify|book|transfer)\b",
        0.7,
        "",
    ),
    (
        "blocked",
        r"\b(?:site|app|application|website|system|servers?|service|platform|portal|checkout|dashboard|api|account"
        r"|integration|payments?|login|database|store|shop|network|internet|connection|wifi|wi-fi) (?:is |are |was "
        r"|were |has been |have been |went |keeps? |is still |are still )?(?:completely |totally |still )?(?:down"
        r"|offline|unavailable|broken|not working|unusable|inaccessible|unreachable|crashing|failing|frozen|dead)\b",
        0.7,
        "",
    ),
    ("blocked", r"\blocked out\b|\b(?:production|prod) (?:is |was )?(?:down|broken|blocked)\b|\boutage\b", 0.8, ""),
    (
        "blocked",
        r"\b(?:entire|whole|all of (?:my|our)) (?:team|company|business|office|staff|store|organi[sz]ation"
        r"|department)\b",
        0.5,
        "",
    ),
    (
        "blocked",
        r"\b(?:losing|lose|lost|costing (?:us|me)) (?:money|sales|revenue|business|orders|clients)\b",
        0.75,
        "",
    ),
    (
        "blocked",
        r"\b(?:blocking (?:us|me|our)|blocker|showstopper|show[- ]stopper|at a standstill|ground to a halt)\b",
        0.6,
        "",
    ),
    ("blocked", r"\bkeeps? (?:crashing|freezing|failing|logging me out|disconnecting)\b", 0.5, ""),
    # intensifiers
    (
        "intensifier",
        r"\b(?:very|really|extremely|incredibly|absolutely|totally|completely|utterly|seriously|ridiculously|insanely"
        r"|truly|highly|deeply|terribly|awfully|hugely|massively|whatsoever)\b",
        1.0,
        "",
    ),
    (
        "intensifier",
        r"\bso+(?= (?:bad|good|happy|sad|angry|mad|slow|rude|great|late|poor|sorry|glad|tired|sick|fed up|done|much"
        r"|many|long|hard|easy|fast|quick)\b| \w+(?:ed|ful|ing|ous|ive|ble|ly)\b)",
        1.0,
        "",
    ),
    ("intensifier", r"\b(?!www\b)[a-z]*([a-z])\1\1+[a-z]*\b", 0.8, ""),
    # punctuation runs
    ("punctuation-run", r"[!?]*(?:!{2,}|\?{2,}|\?!|!\?)[!?]*", 0.8, ""),
)

# Words that are normally written in capitals and are not shouting.
ACRONYMS = frozenset(
    (
        "API",
        "URL",
        "USA",
        "UK",
        "EU",
        "FAQ",
        "PDF",
        "CSV",
        "SMS",
        "VPN",
        "SSO",
        "SSL",
        "TLS",
        "CEO",
        "CTO",
        "CFO",
        "COO",
        "IT",
        "HR",
        "ID",
        "PIN",
        "ATM",
        "CPU",
        "GPU",
        "RAM",
        "USB",
        "HTML",
        "CSS",
        "JSON",
        "XML",
        "HTTP",
        "HTTPS",
        "IOS",
        "DNS",
        "VAT",
        "GST",
        "UPS",
        "DHL",
        "USPS",
        "TV",
        "PC",
        "AM",
        "PM",
        "ETA",
        "ASAP",
        "FYI",
        "BTW",
        "LOL",
        "OMG",
        "TBH",
        "IMO",
        "IMHO",
        "AWS",
        "SQL",
        "CRM",
        "SLA",
        "KPI",
        "ROI",
        "GDPR",
        "BBB",
        "FCA",
        "FTC",
        "CFPB",
        "ICO",
        "NASA",
        "NHS",
        "DMV",
        "IRS",
        "SSN",
        "IBAN",
        "BIC",
        "SWIFT",
        "CVV",
        "OTP",
        "MFA",
        "TFA",
        "QR",
        "NFC",
        "LCD",
        "LED",
        "OLED",
        "SIM",
        "ESIM",
        "NYC",
        "LAX",
        "JFK",
        "LHR",
        "SFO",
        "USD",
        "EUR",
        "GBP",
        "CAD",
        "AUD",
        "INR",
        "JPY",
        "CNY",
        "RSVP",
        "DIY",
        "FAQS",
        "APIS",
        "PDFS",
        "IDS",
        "ATMS",
        "SKU",
        "SKUS",
        "UTC",
        "GMT",
        "EST",
        "PST",
        "CET",
        "AKA",
        "ETC",
        "OK",
        "TIA",
        "AFAIK",
        "IIRC",
        "PS",
        "NB",
        "RE",
        "FW",
        "FWD",
        "CC",
        "BCC",
        "SAAS",
        "B2B",
        "B2C",
        "LTD",
        "LLC",
        "INC",
        "PLC",
        "AG",
        "GMBH",
        "NDA",
        "TOS",
        "EULA",
        "MSRP",
        "RRP",
        "POS",
        "EFT",
        "ACH",
        "SEPA",
        "KYC",
        "AML",
        "PO",
        "RMA",
        "RMAS",
    )
)

_POS_EMOJI = set("😀😃😄😁😆😊🙂😍🥰😘😻👍👌🙏❤💕💖💗💙💚💛💜🧡🤍🎉🥳👏✅😎🤩✨🌟⭐💯🤗😇☺")
_NEG_EMOJI = set("😡😠🤬😤😞😟😢😭😩😫👎💔😒😑🤦😣😖😓😰😱🤯🙁☹😾")
_SARC_EMOJI = set("🙄🙃")
_CONF_EMOJI = set("🤔😕❓❔🤷")
_EMOJI_JOINERS = frozenset("\ufe0f\u200d\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff")


def _rule(profile: str, name: str, pattern: str = "", strength: float = 1.0, context: Context = "") -> CueRule:
    p = _PROFILES[profile]
    return CueRule(p.kind, name, pattern, p.direction, p.transfers, p.emotions, p.urgency, strength, context, p.scope)


def _build_rules() -> tuple[tuple[CueRule, ...], Mapping[str, CueRule]]:
    counts: dict[str, int] = {}
    regex_rules: list[CueRule] = []
    for profile, pattern, strength, context in _PATTERNS:
        counts[profile] = counts.get(profile, 0) + 1
        regex_rules.append(_rule(profile, f"{profile}/{counts[profile]}", pattern, strength, context))
    coded = {
        "caps": _rule("caps", "caps/words"),
        "caps-text": _rule("caps-text", "caps/text"),
        "question-run": _rule("question-run", "punctuation-run/question"),
        "brevity": _rule("brevity", "brevity/curt-reply", strength=0.8),
        "emoji+": _rule("emoji+", "emoji/positive", strength=0.8),
        "emoji-": _rule("emoji-", "emoji/negative", strength=0.9),
        "emoji-sarcasm": _rule("sarcasm", "sarcasm/eye-roll-emoji", strength=0.7),
        "emoji?": _rule("emoji?", "emoji/confused", strength=0.8),
    }
    return tuple(regex_rules), coded


_REGEX_RULES, _CODED = _build_rules()
RULES: tuple[CueRule, ...] = (*_REGEX_RULES, *_CODED.values())

_EMOJI_RULES: tuple[tuple[frozenset[str], CueRule], ...] = (
    (frozenset(_POS_EMOJI), _CODED["emoji+"]),
    (frozenset(_NEG_EMOJI), _CODED["emoji-"]),
    (frozenset(_SARC_EMOJI), _CODED["emoji-sarcasm"]),
    (frozenset(_CONF_EMOJI), _CODED["emoji?"]),
)


def _lower_pattern(pattern: str) -> str:
    """The pattern for lower-cased text: literal capitals lowered, escapes (\\S, \\W) and (?P<...>) kept."""
    return re.sub(r"(?<![\\?])[A-Z]", lambda m: m.group().lower(), pattern)


@functools.cache
def _compiled() -> tuple[re.Pattern[str], ...]:
    """Per rule, the pattern for lower-cased text: one scan per rule, no IGNORECASE, is the fast path in ``re``."""
    return tuple(re.compile(_lower_pattern(_rx(rule.pattern))) for rule in _REGEX_RULES)


@functools.cache
def _compiled_ignorecase() -> tuple[re.Pattern[str], ...]:
    """The case-insensitive patterns, for the rare text whose length changes when lower-cased."""
    return tuple(re.compile(_rx(rule.pattern), re.IGNORECASE) for rule in _REGEX_RULES)


def warm_up() -> None:
    """Compile the detectors now (the analyzer does this at load, so the first message is not slower)."""
    _compiled()
    _neg_context_rx()
    _thanks_rx()
    _courtesy_rx()
    _brevity_rx()


@functools.cache
def _neg_context_rx() -> re.Pattern[str]:
    """Words that describe something gone wrong: what turns "Great," or "love how" into sarcasm."""
    return re.compile(
        _rx(
            r"\b(?:another|again|delay(?:ed|s)?|late|later|broken|broke|crash(?:ed|es|ing)?|down|outage|lost|losing"
            r"|missing"
            r"|cancel+ed|cancel+ation|still|waiting (?:for|since|over|on)|waited|(?:\d+|two|three|four|five|six|seven"
            r"|eight"
            r"|nine|ten|eleven|twelve|several) (?:hours?|days?|weeks?|months?)|on hold|overcharged|charged (?:twice"
            r"|me twice"
            r"|again)|double[- ]charged|wrong|error|errors|fail(?:ed|s|ure)?|stuck|bug(?:s|gy)?|glitch(?:es|y)?|damaged"
            r"|deleted|logged out|expired|declined|rejected|ignored|useless|ruin(?:ed|s)?|never|no (?:one|body|reply"
            r"|response"
            r"|answer|refund|update)|nobody|nothing|stranded|disaster|mess|nightmare|worse|worst|not working"
            r"|doesn't work"
            r"|didn't work|can't|cannot|no longer|spam|overbooked|rude|dirty|leak(?:ing|ed)?|smashed|ripped|torn"
            r"|wasted?"
            r"|hold music|dropped|took)\b"
        ),
        re.IGNORECASE,
    )


@functools.cache
def _thanks_rx() -> re.Pattern[str]:
    return re.compile(
        _rx(r"\b(?:thank(?:s| you)|appreciate|love (?:it|this|you)|helpful|fixed|resolved|works now)\b"), re.I
    )


@functools.cache
def _courtesy_rx() -> re.Pattern[str]:
    name = r"(?:\s+(?:[\w.-]|')+){0,2}"
    thanks_for = (
        r"(?: for (?:your|the|all your|all the|any|this|that) (?:help|time|reply|response|assistance|patience|support"
        r"|understanding|attention|consideration|quick (?:reply|response)|update|info(?:rmation)?|message|email))?"
    )
    closing = (
        r"(?:(?:many |big )?thanks(?: again)?|thank you(?: again)?|thx|ty|tia|cheers|regards|kind regards|best regards"
        r"|warm regards|best wishes|best|sincerely|yours (?:sincerely|faithfully|truly)|respectfully|all the best"
        r"|have a (?:nice|good|great|lovely) (?:day|weekend|evening|one)|(?:I )?hope (?:you(?:'re| are) (?:well"
        r"|doing well)"
        r"|this (?:e-?mail|message) finds you well)|looking forward to (?:your|hearing)[\w\s]{0,30})"
    )
    greeting = rf"(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings){name}"
    pattern = (
        rf"^(?:{greeting}|{closing}(?: (?:so|very) much| a lot)?(?: in advance)?{thanks_for}(?: in advance)?"
        r"[\s,.!]*(?:(?:[\w.-]|')+(?:\s+(?:[\w.-]|')+)?)?)"
        r"[\s,.!:)]*$"
    )
    return re.compile(_rx(pattern), re.IGNORECASE)


@functools.cache
def _brevity_rx() -> re.Pattern[str]:
    return re.compile(
        _rx(
            r"^\W*(?:fine|whatever|k|kk|ok|okay|sure|noted|right|if you say so|yeah sure|sure thing|yeah whatever)\W*$"
        ),
        re.IGNORECASE,
    )


_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip


def _duration_strength(num: str, unit: str) -> float:
    """How overdue a wait is, as a strength: minutes barely, a week or more fully."""
    n = float(num) if num.isdigit() else float(_WORD_NUMBERS.get(num.lower(), 3))
    unit = unit.lower()
    if unit.startswith("min"):
        return 0.15 if n < 30 else 0.25
    if unit.startswith(("hour", "hr")):
        return 0.3 if n < 3 else (0.45 if n < 24 else 0.6)
    if unit.startswith("day"):
        return 0.55 if n < 3 else (0.75 if n < 5 else 1.0)
    return 1.0  # weeks, months, years


def negative_context(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Does sentence ``i`` or a neighbour describe something gone wrong?"""
    if not spans:
        return _neg_context_rx().search(text) is not None
    lo, hi = max(0, i - 1), min(len(spans) - 1, i + 1)
    return _neg_context_rx().search(text, spans[lo][0], spans[hi][1]) is not None


def is_courtesy(sentence: str) -> bool:
    """A greeting or closing formula ("Thanks in advance", "Kind regards, Anna"): politeness, not sentiment."""
    s = sentence.strip()
    return len(s) <= 120 and _courtesy_rx().match(s) is not None


def _sentence_of(starts: Sequence[int], pos: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= pos:
            lo = mid + 1
        else:
            hi = mid
    return max(0, lo - 1)


# Three-letter words that are shouting when written in capitals on their own.
_SHOUTED_SHORT = frozenset(
    ("NOT", "NOW", "WHY", "HOW", "ALL", "ANY", "YET", "BAD", "MAD", "SAD", "OFF", "OUT", "WTF", "YOU")
)


def _caps_cues(text: str, starts: Sequence[int]) -> list[CueMatch]:
    """Shouting: a whole text in capitals, or runs of capitalised words that are not acronyms."""
    letters = [c for c in text if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    if len(letters) >= 12 and upper / len(letters) >= 0.7 and len(text.split()) >= 3:
        return [CueMatch(_CODED["caps-text"], len(text) - len(text.lstrip()), len(text.rstrip()), 0, 1.0)]
    out: list[CueMatch] = []
    run: list[tuple[int, int, str]] = []

    def close() -> None:
        if not run:
            return
        words = [w for _, _, w in run]
        n_letters = sum(len(w) for w in words)
        shouted = (len(words) >= 2 and n_letters >= 5) or n_letters >= 4 or words[0] in _SHOUTED_SHORT
        if shouted and any(len(w) >= 3 for w in words):
            start = run[0][0]
            strength = min(1.0, 0.5 + 0.25 * len(words))
            out.append(CueMatch(_CODED["caps"], start, run[-1][1], _sentence_of(starts, start), strength))
        run.clear()

    for m in re.finditer(r"\b[A-Z][A-Z'’]+\b", text):
        word = m.group().replace("’", "'").split("'")[0]
        if word in ACRONYMS or len(word) < 2:
            close()
            continue
        gap = text[run[-1][1] : m.start()] if run else ""
        if run and (len(gap) > 3 or any(ch in ".!?\n" for ch in gap)):
            close()
        run.append((m.start(), m.end(), word))
    close()
    return out


def _emoji_cues(text: str, starts: Sequence[int]) -> list[CueMatch]:
    out: list[CueMatch] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        hit = next(((group, rule) for group, rule in _EMOJI_RULES if ch in group), None)
        if hit is None:
            i += 1
            continue
        group, rule = hit
        j = i + 1
        while j < n and (text[j] in group or text[j] in _EMOJI_JOINERS):
            j += 1
        out.append(CueMatch(rule, i, j, _sentence_of(starts, i), rule.strength))
        i = j
    return out


def find_cues(text: str, spans: Sequence[tuple[int, int]]) -> list[CueMatch]:
    """Every cue in ``text``, in text order; ``spans`` are its sentences (``split_sentences``)."""
    starts = [s for s, _ in spans] or [0]
    lower = text.lower()
    # a few characters (e.g. "İ") change length when lower-cased: then offsets need the slow patterns
    haystack, patterns = (lower, _compiled()) if len(lower) == len(text) else (text, _compiled_ignorecase())
    out: list[CueMatch] = []
    for rule, rx in zip(_REGEX_RULES, patterns, strict=True):
        for m in rx.finditer(haystack):
            strength = rule.strength
            unit = _sentence_of(starts, m.start())
            if rule.context:
                bad = negative_context(text, spans, unit)
                if rule.context == "required" and not bad:
                    continue
                if rule.context == "bonus":
                    if bad:
                        strength = min(0.95, strength + 0.3)
                    elif spans and _thanks_rx().search(text, spans[unit][0], spans[unit][1]):
                        continue
            if "num" in rx.groupindex and m.group("num"):
                strength = _duration_strength(m.group("num"), m.group("unit"))
            hit = _CODED["question-run"] if rule.kind == "punctuation-run" and "?" in m.group() else rule
            out.append(CueMatch(hit, m.start(), m.end(), unit, strength))
    out.extend(_caps_cues(text, starts))
    if not text.isascii():
        out.extend(_emoji_cues(text, starts))
    if len(text.split()) <= 3 and _brevity_rx().match(text):
        rule = _CODED["brevity"]
        out.append(CueMatch(rule, len(text) - len(text.lstrip()), len(text.rstrip()), 0, rule.strength))
    out.sort(key=lambda c: (c.start, c.end, c.rule.name))
    return out
