"""Phrase banks for agents' replies.

Agents vary by temperament (formal or casual) and by what they are doing in a ticket:
acknowledging, asking for information, stalling on a long escalation, or resolving.
Replies to customers who wrote in Spanish, French or German open in their language.
"""

from __future__ import annotations

__all__ = [
    "ACKS",
    "ACTIONS",
    "AGENT_CLOSINGS",
    "AGENT_GREETINGS",
    "ANSWERED",
    "CANCEL_REPLY",
    "CHAT_ACKS",
    "INFO_REQUESTS",
    "LOCAL_GREETINGS",
    "RESOLUTIONS",
    "STALLS",
]

AGENT_GREETINGS: dict[bool, tuple[str, ...]] = {
    False: ("[Hi|Hey|Hello] {cust_first},", "[Hi|Hello] {cust_first}!", "[Hi|Hey] there,"),
    True: ("Dear {cust_first},", "Dear {cust_first} {cust_last},", "Hello {cust_first},", "Good [morning|afternoon],"),
}

LOCAL_GREETINGS: dict[str, tuple[str, ...]] = {
    "es": ("Hola {cust_first},", "Buenos días {cust_first},", "Estimado/a {cust_first},"),
    "fr": ("Bonjour {cust_first},", "Bonjour,", "Chère/Cher {cust_first},"),
    "de": ("Hallo {cust_first},", "Guten Tag {cust_first},", "Liebe/r {cust_first},"),
}

# Keyed by (formal, the customer is unhappy).
ACKS: dict[tuple[bool, bool], tuple[str, ...]] = {
    (False, False): (
        "[Thanks for reaching out|Thanks for getting in touch|Thanks for the message|Thanks for flagging this]!",
        "[Happy to help|Glad to help|I can definitely help] with [this|that|{topic}].",
        "[Good to hear from you|Nice to hear from you] again[, {cust_first}|]!",
    ),
    (False, True): (
        "[Sorry to hear about|Sorry about|Ugh, sorry for] the trouble with {topic}.",
        "[I totally understand|I get it], [that's annoying|that's frustrating|that's not what you want to deal with].",
        "[Really sorry|So sorry] [about this|for the hassle][, {cust_first}|].",
    ),
    (True, False): (
        "Thank you for contacting {company} Support[ regarding {topic}|].",
        "Thank you for [the detailed description|your message|your question].",
        "[I would be happy|I am happy] to help with [this|{topic}].",
    ),
    (True, True): (
        "[I am sorry for|I apologise for|We apologise for] the inconvenience [this has caused|caused by {topic}].",
        "Thank you for [your patience|bringing this to our attention].",
        "[I understand|We understand] [how important this is|the impact this has] for your team.",
    ),
}

CHAT_ACKS: tuple[str, ...] = (
    "[Hi|Hey] {cust_first}, {agent_first} here[ from {company}|]! [Let me take a look|Checking now|One moment "
    "while I look into this].",
    "[Thanks for waiting|Thanks for your patience], {cust_first}. [I'm looking at your account now|Let me check "
    "that for you].",
    "[Hi there|Hello]! [Sorry about that|Sorry for the trouble]. [Can you tell me|Could you confirm] [your "
    "workspace name|which browser you're using|when it started]?",
)

ACTIONS: dict[str, tuple[str, ...]] = {
    "billing": (
        "[I've checked your account|I looked into your billing history] and [I can see the duplicate charge|the "
        "invoice reflects {seats} seats|the card was declined by the bank].",
        "[I've corrected the invoice|I've sent the updated PDF|I've updated the billing contact] [as requested|"
        "just now|].",
        "[The charge of {amount}|Invoice {invoice}] [is for|covers] [the annual renewal|the extra seats added on "
        "{date}|the prorated upgrade].",
    ),
    "refund": (
        "[I've issued|I have processed|I've requested] a refund of {amount}[; it should appear within 5-10 "
        "business days|, you'll see it on your statement within a week|].",
        "[I can see the refund|The refund] [was sent on {date}|is with our payments provider|is being processed].",
    ),
    "login/access": (
        "[I've reset|I have reset] [the SSO configuration|your password|the 2FA settings] [for your workspace|on "
        "our side].",
        "[This looks like|It seems to be] [an issue with the SAML certificate|a cached session|an expired invite].",
        "[I've resent|I have resent] the [invitation|reset link] to [your colleague|the address on file].",
    ),
    "bug": (
        "[I was able to reproduce|I've reproduced|Our QA team reproduced] [this|the issue] and [filed it with|"
        "passed it to|escalated it to] our engineers (ref {error}).",
        "[This is a known issue|We're aware of this issue] [with {feature}|since the last release] and a fix "
        "[is in progress|is scheduled for this week].",
    ),
    "performance": (
        "[We had|There was] [a degradation|an incident|elevated latency] [affecting|on] {feature} [earlier today|"
        "{when}], see our status page.",
        "[Our infrastructure team|The on-call engineers] [are investigating|have identified the cause of] the "
        "slowdown.",
    ),
    "delivery": (
        "[I've reconnected|I have re-authorised|I restarted] the {integration} [integration|sync] [on our side|"
        "for your workspace].",
        "[The export job|The scheduled report] [failed because of|hit] a timeout; [I've re-run it|I've queued it "
        "again|we've increased the limit].",
    ),
    "cancellation": (
        "[I'm sorry to see you go|Sorry to hear you're leaving|We'd be sad to see you go].",
        "[Before we proceed|Before I process this], [could we set up a call|may I ask what led to this "
        "decision|would a different plan help]?",
    ),
    "how-to": (
        "[Great question|Good question]! [You can find this under|Go to] Settings > [Workspace|Notifications|"
        "Views] > {feature_title}.",
        "[Here's|This is] [our guide|a short article|a video] on {feature}: "
        "https://help.northwind.example/articles/{article}",
    ),
    "feature request": (
        "[Thanks for the suggestion|Great idea|Love this idea]! [I've added your vote|I've shared it with our "
        "product team|I've logged it on our roadmap board].",
        "[It's not possible today|This isn't supported yet], but [as a workaround you can|you can] [use|try] "
        "{feature} [for now|in the meantime].",
    ),
}

INFO_REQUESTS: tuple[str, ...] = (
    "[Could you send|Would you mind sending|Could you share] [a screenshot|a HAR file|your workspace ID|the exact "
    "time it happened|the name of the affected project]?",
    "[To help us investigate|So we can dig in], [can you tell me|could you confirm] [which browser you use|"
    "whether it happens in incognito|how many users are affected]?",
)

STALLS: tuple[str, ...] = (
    "[Thank you for your patience|We appreciate your patience] [while our engineers investigate|as we work on "
    "this]. [I have chased the team again|I've raised the priority internally] and [will revert as soon as "
    "possible|hope to share an update shortly].",
    "[I understand your frustration|I completely understand the urgency]. [The issue remains|This is still] "
    "with [our engineering team|the product team] and [I'll update you|we'll update you] [by {date}|within 48 "
    "hours|as soon as we hear back].",
    "[Apologies for the delay|Sorry for the slow response]. [We are still investigating|The investigation is "
    "ongoing] and [I don't have an ETA yet|there's no ETA at this stage].",
)

ANSWERED: tuple[str, ...] = (
    "[Hope that helps|I hope this helps|Let me know if that answers your question]! [I'll close this for now, but "
    "reply anytime.|Feel free to reply if you have more questions.|Have a great day!]",
    "[If anything is unclear|If you need anything else], [just reply here|let us know].",
)

RESOLUTIONS: tuple[str, ...] = (
    "[This should now be fixed|The fix has been deployed|Everything should be back to normal|That's all sorted "
    "now]. [Could you try again and let me know?|Please let me know if you still see the problem.|Feel free to "
    "reply if anything else comes up.]",
    "[I'll mark this ticket as resolved|I'm closing this ticket for now], but [just reply|simply reply] to "
    "reopen it [if needed|if the issue comes back].",
)

CANCEL_REPLY: tuple[str, ...] = (
    "[I've processed the cancellation|Your cancellation is confirmed]; [your workspace stays active until "
    "{renewal}|you'll keep access until the end of the term]. [Your data can be exported until then|"
    "You can export your data any time before that].",
)

AGENT_CLOSINGS: dict[bool, tuple[str, ...]] = {
    False: ("[Cheers|Thanks|Best],\n{agent_first}", "[Cheers|Best],\n{agent_first} @ {company}", "{agent_first}"),
    True: (
        "Kind regards,\n{agent_name}\n{company} Support",
        "Best regards,\n{agent_name}\nCustomer Success, {company}",
        "[Warm regards|Sincerely],\n{agent_name}",
    ),
}
