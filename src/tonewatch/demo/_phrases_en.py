"""English phrase banks for customer-authored text (templates in the ``_grammar`` syntax).

Each entry is a template with nested alternatives and slots, so one line stands for dozens
of surface forms. Banks are keyed by issue category and by the stage of a conversation,
because what a customer writes depends on both (a first report reads differently from the
third contact about the same problem).
"""

from __future__ import annotations

__all__ = [
    "ASKS",
    "CANCEL_REASONS",
    "CHAT_OPENERS",
    "CLOSINGS",
    "CSAT_COMMENTS",
    "DETAILS",
    "FEELINGS",
    "FOLLOWUPS",
    "FORMAL_ESCALATION",
    "GREETINGS",
    "IMPACTS",
    "NPS_COMMENTS",
    "OPENERS",
    "PHONE_OPENERS",
    "PROBLEMS",
    "REOPEN",
    "REPEAT",
    "SARCASM",
    "SIGNATURES",
    "SOCIAL_TAGS",
    "SUBJECTS",
    "SWITCH",
    "THANKS",
]

PROBLEMS: dict[str, tuple[str, ...]] = {
    "billing": (
        "[we were|I was|our account was|our company card was] [charged|billed] [twice|two times|double] for "
        "[our|the] [monthly|annual|latest] [subscription|invoice|renewal] [on {date}|{when}|this month]",
        "[our|the] invoice {invoice} [shows|says|lists] {amount} but [we're on|our contract is for|we only have] "
        "{seats} seats",
        "[I need|could you send me|can I get] [a copy of|a corrected version of|the PDF for] invoice {invoice}"
        "[ with our VAT number on it| addressed to our finance team| with the right company address|]",
        "[our card|the card on file|the company card] [was declined|keeps getting declined|failed] "
        "[when we tried to renew|on the last payment|{when}][ and now the account shows a payment warning|]",
        "[how do I|can we|is it possible to] [switch|move] [our billing|the subscription] from "
        "[monthly to annual|annual to monthly|card payment to bank transfer]",
        "[we added|I removed|we deactivated] [a few|{n}] [seats|users] [last week|{when}] but the "
        "[invoice|bill|charge] [still shows the old number|doesn't reflect it|went up instead]",
        "[there's|I see|we noticed] [an unexpected|a strange|an extra|an unexplained] charge of {amount} "
        "[on our statement|from {company}|on the card][ dated {date}|]",
        "[we need to update|how do we change|please change] the billing [contact|email|address] to {billing_email}",
        "[the price|our renewal quote|the new invoice] [went up|jumped|increased] to {amount} [without any notice|"
        "and nobody told us|compared to last year]",
    ),
    "refund": (
        "[I'd like to|we would like to|please] [request|ask for|process] a refund for [the duplicate charge|"
        "the unused seats|the renewal that went through by mistake|{amount}]",
        "[we were promised|your colleague promised|I was told we'd get] a refund of {amount} [{when}|on {date}|"
        "two weeks ago] [and it still hasn't arrived|but nothing has shown up|and I can't see it anywhere]",
        "the refund for invoice {invoice} [went to the wrong card|was only partial|is still pending|never arrived]",
        "[please refund|can you refund|refund] the {amount} [to our original payment method|as a credit note|"
        "to the card we used]",
        "[we cancelled the add-on|we downgraded|we removed {n} seats] [on {date}|{when}] but [were still charged|"
        "got billed the full amount|haven't seen the prorated refund]",
    ),
    "login/access": (
        "[I can't|I cannot|none of us can|half of my team can't|nobody here can] log in [{since}|{when}|"
        "after the password reset|on {browser}]",
        "[SSO|our SAML login|Google sign-in|the Okta integration|single sign-on] [fails|is broken|throws {error}] "
        "[for everyone on our domain|for new users|{when}|{since}]",
        "[the password reset email|the 2FA code|the invitation link|the magic link] [never arrives|doesn't work|"
        "has expired|goes to spam and then fails]",
        "[I'm locked out|my account got locked|I keep getting logged out] [after {n} attempts|every few minutes|"
        "on {browser}|{when}]",
        "[a new hire|our contractor|my colleague|one of our admins] [can't accept the invite|doesn't get access to "
        "the workspace|sees {error} when opening a board]",
        "[how do I|can you help me|I need to] [transfer admin rights|reset the owner account|remove an ex-employee's "
        "access|recover the workspace owner login]",
    ),
    "bug": (
        "{feature} [is broken|doesn't load|shows a blank page|crashes|keeps freezing|throws {error}] [{since}|"
        "{when}|after the last update|on {browser}]",
        "[when I|every time I|if I] [drag a task|change a due date|add a dependency|open a board|save a custom field|"
        "move a card], [it disappears|the page reloads|I get {error}|nothing happens|the change is lost]",
        "[tasks|comments|attachments|subtasks] [are disappearing|are duplicated|show the wrong dates|don't save] "
        "[in {feature}|on our main board|for some users|{when}]",
        "[we're seeing|there's|I found] [a bug|a weird issue|a problem] [with|in] {feature}: [dates shift by a day|"
        "the wrong assignee shows|the totals don't add up|sorting is broken|filters reset themselves]",
        "[notifications|email alerts|reminders|mentions] [stopped working|are sent twice|arrive hours late] "
        "[{when}|{since}]",
        "[after|since] the [latest|last|new] [release|update|version], {feature} [is acting up|behaves strangely|"
        "lost our settings|shows {error}]",
    ),
    "performance": (
        "{feature} [is extremely slow|takes forever to load|has become painfully slow|lags a lot|is crawling] "
        "[{since}|{when}|for everyone in our team|on {browser}]",
        "[boards|pages|reports|dashboards] [take|are taking] [{secs} seconds|over a minute|ages] to load"
        "[, sometimes timing out with {error}|, if they load at all|]",
        "[the app|{product}|everything] [is down|is unreachable|won't load|keeps timing out] [again|right now|"
        "for the second time this week|{since}]",
        "[search|filtering|scrolling|switching projects] [is sluggish|freezes the tab|is unusable] [on large "
        "projects|with more than {n} tasks|on {browser}]",
        "[we're getting|the team keeps getting|I see] [{error}|timeouts|spinning wheels] [all day|every few "
        "minutes|during peak hours|{when}]",
    ),
    "delivery": (
        "[the|our] [CSV|Excel|PDF] export [fails|never finishes|comes back empty|times out with {error}] "
        "[{when}|{since}|for {feature}]",
        "[the|our] {integration} [integration|sync|connection] [stopped syncing|is not syncing|keeps "
        "disconnecting|duplicates items|drops updates] [{since}|{when}]",
        "[the scheduled report|the weekly digest|our nightly export|the monthly status report] [didn't arrive|"
        "wasn't delivered|is missing data|came through blank] [on {date}|{when}]",
        "[webhooks|API calls|the automations] [are failing|return {error}|are delayed by hours|fire twice] "
        "[{since}|{when}]",
        "[files|attachments] [uploaded|synced] from {integration} [never show up|arrive corrupted|take hours to "
        "appear] [in {feature}|on the board]",
    ),
    "cancellation": (
        "[we've decided to|we'd like to|please] [cancel|end|not renew] [our subscription|the contract|our plan] "
        "[at the end of the term|before the renewal on {renewal}|effective immediately|this month]",
        "[how do I|what's the process to|can you help us] [cancel|close our account|downgrade to the free plan]",
        "[unfortunately|after a lot of discussion|given the issues we've had], [we're moving to|we've chosen|"
        "we're switching to] [another tool|a different provider|a competitor|an internal solution]",
        "[please|kindly] [confirm|process] the cancellation of [workspace|account] {workspace}[ and stop any "
        "further charges| and send a final invoice|]",
    ),
    "how-to": (
        "[how do I|how can I|is there a way to|what's the best way to] [set up|configure|use] {feature} [for our "
        "team|across projects|with {integration}|for client work]",
        "[can I|is it possible to|how do we] [export|import|duplicate|archive] [a whole project|all tasks|our boards|"
        "completed tasks] [to CSV|from Trello|into a template|in bulk]",
        "[quick question:|question:|small question -] [where do I find|how do I change|how do we turn off] "
        "[the notification settings|the time zone|the default view|the workspace logo|weekly summaries]",
        "[we're onboarding|we just added|I'm training] [{n} new people|a new team|our marketing department] - "
        "[any tips|is there a guide|do you have docs] for {feature}?",
        "[does|can] {feature} [work with|connect to|sync with] {integration}",
    ),
    "feature request": (
        "[it would be great|we'd love it|it would really help us] if {feature} [supported|could do|had] [subtasks|"
        "filtering by assignee|recurring dates|dark mode|offline mode|custom statuses|keyboard shortcuts]",
        "[any plans to|are you planning to|is there a roadmap to] [support|add|integrate with] [{integration}|"
        "Notion|Linear|SAP|Power BI] [soon|this year|]",
        "[feature request:|suggestion:|small wish:|idea:] [let us|allow us to|make it possible to] [bulk edit|"
        "color-code|lock|template] [tasks|milestones|columns|views] in {feature}",
        "[our team keeps asking|people here keep asking|I keep getting asked] [for|about] [a way to|an option to] "
        "[hide weekends|set working hours|see capacity|print boards] in {feature}",
    ),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": (
        "[Double|Duplicate] charge[ on {date}|]",
        "Invoice {invoice} [question|is wrong|correction]",
        "[Card declined|Payment failed] on renewal",
        "Billing [contact|address] update",
        "[Price increase|Unexpected charge] [on our account|]",
    ),
    "refund": ("Refund [request|for {amount}|still pending]", "[Where is our|Missing] refund", "Prorated refund"),
    "login/access": (
        "[Can't|Cannot|Unable to] log in",
        "SSO [broken|error {error}|not working]",
        "[Locked out|Account locked]",
        "[Invite|Invitation] not [working|arriving]",
        "Admin [rights|access] transfer",
    ),
    "bug": ("{feature_title} [broken|not working|bug]", "[Data|Tasks] [missing|lost] on board", "Error {error}"),
    "performance": (
        "[Very slow|Slow] {feature_title}",
        "[Outage|Service down|Timeouts]",
        "Performance [issues|degradation]",
    ),
    "delivery": ("{integration} sync [failing|broken]", "[CSV|PDF|Excel] export [failing|empty]", "Webhook failures"),
    "cancellation": ("[Cancel|Cancellation of] [subscription|account]", "Not renewing", "Downgrade request"),
    "how-to": (
        "How to [use|set up] {feature_title}",
        "[Question|Quick question] about {feature_title}",
        "Onboarding help",
    ),
    "feature request": (
        "Feature request: {feature_title}",
        "[Suggestion|Idea] for {feature_title}",
        "{integration} integration?",
    ),
}

GREETINGS: tuple[str, ...] = (
    "[Hi|Hello|Hey|Hi there|Hello team|Hi {product} team|Good morning|Good afternoon|Dear support team|Hi support],",
    "[Hi|Hello|Hey] [folks|all|everyone],",
    "[Hi|Hello] {agent_first},",
)

OPENERS: dict[str, tuple[str, ...]] = {
    "positive": (
        "[Hope you're well|Hope you're having a good week|Hope all is well]!",
        "[First of all|Before anything else], [thanks for a great product|we love {product}|the team really "
        "enjoys {feature}].",
        "[Quick one|Small thing] [today|for you|].",
        "",
    ),
    "neutral": (
        "[Quick question|A question|I have a question] [for you|about our account|].",
        "[I'm writing|Writing] [about|regarding] [our workspace|our account|{feature}].",
        "[Hope you're well|Hope all is well].",
        "",
        "",
    ),
    "negative": (
        "[I'm writing|I have to write|Writing] [again|once more|] [because|as] [we have a problem|something is "
        "wrong|we're stuck].",
        "[We have|There's] [a serious|an urgent|a real] [problem|issue] [here|with our account|].",
        "[Sorry|Apologies] [to bother you|for the urgent message], but [we need help|this can't wait].",
        "",
        "",
    ),
}

DETAILS: tuple[str, ...] = (
    "[I've|We've] [already|] [cleared the cache|tried another browser|logged out and back in|reinstalled the app|"
    "tried in incognito mode|restarted everything].",
    "[The error says|It shows|We get|The message is] {error}.",
    "[It happens|This happens] on [{browser}|every browser we tried|both desktop and mobile|{browser} and {browser}].",
    "[Screenshot attached|I attached a screenshot|See the attached recording|I've attached the console log].",
    "[It started|This started|We first noticed it] [yesterday|this morning|on {date}|right after the update|"
    "last week].",
    "[Our workspace ID is|The workspace is] {workspace}[, project '{project}'|].",
    "[It affects|This affects] [{n} users|the whole team|only admins|everyone except me].",
)

IMPACTS: tuple[str, ...] = (
    "[Our team|{n} people|The whole department|My team] [can't work|are blocked|can't plan the sprint|"
    "missed a deadline] because of this.",
    "[We have a client presentation|Our board meeting is|Month-end close is|Our launch is] [tomorrow|on {date}|"
    "this week|on Friday].",
    "[This is|It's] [costing us|eating] [hours|a lot of time|real money] every [day|week].",
    "[Our clients|Our customers|Our partners] [are noticing|are asking what's going on|can't see their updates].",
)

FEELINGS: dict[str, tuple[str, ...]] = {
    "positive": (
        "[Love|Really enjoying|We're big fans of] [the product|{product}|{feature}][ so far|, by the way|]!",
        "[Thanks|Thank you] [so much|a lot|] for [the quick help|the great support|all your help][ last time|].",
        "[Keep up the great work|You guys rock|Great job on the latest release|Great work on {feature}]!",
        "[Otherwise|Apart from that] everything [works great|is smooth|has been fantastic].",
        "[{feature} has|{product} has] [made our planning so much easier|saved us hours every week|been a great "
        "fit for us].",
    ),
    "neutral": (
        "[No rush|Not urgent][, whenever you get a chance|, when you have a moment|].",
        "[Thanks|Thank you][ in advance|].",
        "",
        "",
    ),
    "mild": (
        "[This is|It's getting] [a bit|rather|quite] [frustrating|annoying|disappointing].",
        "[Not ideal|Not great], [to be honest|honestly].",
        "[We were hoping for better|I expected this to be fixed by now|I thought this was solved].",
        "[It's slowing|This is slowing] [us|the team] down[ quite a bit|].",
        "[A bit disappointed|Somewhat disappointed], [to be honest|if I'm honest|I have to say].",
        "[Things used to work|It all used to work] [better|more smoothly] than this.",
    ),
    "strong": (
        "[This is|Frankly, this is|Honestly this is] [completely unacceptable|ridiculous|a joke|not acceptable].",
        "[I'm|We're] [really|extremely|seriously] [fed up|frustrated|angry|upset] [with this|at this point|].",
        "[We pay|We're paying] {amount} a [month|year] for this?",
        "[If this isn't fixed|Unless this is sorted] [by {date}|this week|soon], we'll [look for alternatives|"
        "cancel|escalate this].",
        "[Nobody|No one] has [responded|gotten back to us|followed up] in [{n} days|days|a week].",
        "[Worst|Terrible|Awful] [experience|support experience] [I've had|we've had] with a [vendor|SaaS tool].",
    ),
}

ASKS: dict[str, tuple[str, ...]] = {
    "positive": (
        "[Could you|Can you] [point me in the right direction|share a guide|let me know]?",
        "[Any pointers|Any tips] [would be great|appreciated]!",
        "",
    ),
    "neutral": (
        "[Can you|Could you|Please] [look into this|help|check|advise][ when you can|]?",
        "[Please let me know|Let me know] [what you need from me|the next steps|how to proceed].",
        "[Is there|Do you have] [a workaround|an ETA|documentation for this]?",
    ),
    "negative": (
        "[Can you|Could you|Please] [look into this|fix this|sort this out|escalate this][ asap| urgently|"
        " as soon as possible| today|]!",
        "[Is there an ETA for a fix|What's the ETA|Is there a workaround|What's the timeline for a fix]?",
        "[I need|We need] [an answer|a fix|someone to call me] [today|asap|now].",
        "[Please call me|Call me] [on|at] {phone}[ as soon as possible| today|].",
    ),
}

CLOSINGS: tuple[str, ...] = (
    "[Thanks|Thank you|Thanks in advance|Cheers|Best|Best regards|Kind regards|Regards|Many thanks|Thanks again],",
    "[Thanks|Cheers|Best]",
    "[Looking forward to hearing from you|Speak soon|Talk soon|Have a good one],",
)

SIGNATURES: tuple[str, ...] = (
    "{first}",
    "{first} {last}",
    "{first} {last}\n{title}, {organisation}",
    "{first} {last}\n{title}\n{organisation}\n{phone}",
    "{first} {last} | {organisation}\n{email}",
    "{first}\n{organisation}",
)

CHAT_OPENERS: tuple[str, ...] = ("hi", "hey", "hello", "hi there", "hey team", "morning", "yo", "hi, quick one", "")

PHONE_OPENERS: tuple[str, ...] = (
    "[Hi|Hello|Yeah, hi], [this is|it's] {first} [from|at] {organisation}. [I'm calling about|Calling about|"
    "I'm ringing about] [our account|an issue we have|{feature}].",
    "[Hello|Hi], {first} {last} here[ from {organisation}|]. [Listen,|So,|Look,|] [I need some help|I've got a "
    "problem|we have an issue].",
    "[Hi|Hello], [yes|yeah], [I'm|I am] {first}, [the admin|the account owner|one of the admins] for {organisation}.",
)

CANCEL_REASONS: tuple[str, ...] = (
    "[The main reason is|We're leaving because of|Honestly, it comes down to] [the recurring outages|the "
    "unresolved issues we raised|the price increase|the missing {integration} integration|budget cuts].",
    "[Our team|Management] [decided|has decided] to [consolidate tools|move everything to one platform|cut costs "
    "this year].",
    "[It's been|It has been] [a tough few months|a frustrating quarter] [with the product|for us], [to be honest|"
    "frankly].",
    "",
)

SOCIAL_TAGS: tuple[str, ...] = ("", "", "#fail", "#downtime", "#customerservice", "#saas", "#support")

FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "positive": (
        "[That worked|That fixed it|Perfect, that did the trick|All good now|Brilliant, it works], [thanks|thank "
        "you so much|cheers|much appreciated]!",
        "[Confirmed|Just confirming] [it's working|everything is back to normal|the fix works] [on our side|now]. "
        "[Thanks for the quick help|Great support, thank you]!",
    ),
    "neutral": (
        "[Here's|Attached is|Sending] [the screenshot|the HAR file|the info you asked for|the export log]: "
        "[workspace {workspace}|the project is called '{project}'|it happens on {browser}].",
        "[Sure|OK|Okay], [I'll try that|will test it|let me check] and [get back to you|report back][ tomorrow|].",
        "[Any update|Any news|Is there any update] on this[ ticket|]?",
    ),
    "negative": (
        "[I tried|We tried] [that|what you suggested|the steps you sent][ but|, unfortunately] [it's still broken|"
        "nothing changed|the same error comes back|it didn't help].",
        "[Still|It's still] [happening|not working|broken] [as of this morning|today|{when}].",
        "[That's|This is] not [a fix|a solution|helpful], [it's|that's] a workaround[ at best|].",
        "[Any update|Any news|Hello?|Is anyone looking at this]? [It's been|We've waited] [{n} days|days|a week] "
        "[already|now].",
    ),
}

REOPEN: tuple[str, ...] = (
    "[This is|The issue is|The problem is] [happening again|back|not fixed after all][ {since}| {when}|].",
    "[You closed|The ticket was closed|You marked] [ticket {ticket}|this] [as resolved|] but [it's not fixed|the "
    "problem came back|nothing changed].",
    "[Reopening this|I have to reopen this]: {problem_short} [again|once more].",
)

REPEAT: tuple[str, ...] = (
    "[This is the|It's now the] {count} time [I'm contacting you|I've written|we've reached out] about "
    "[this|the same issue|{topic}].",
    "[I already reported this|We raised this|I've told you about this] [in ticket {prev_ticket}|on {prev_date}|"
    "last week] [and|but] [nothing has changed|it's still not fixed|no one followed up].",
    "[Again|Once again|For the {count} time|Same problem as before]: {problem_short}.",
    "[Following up|Writing again] [on|about] {prev_ticket} [because|as] [the issue is still there|I never got an "
    "answer|the fix didn't work].",
)

# Keyed by the channel the customer has moved to.
SWITCH: dict[str, tuple[str, ...]] = {
    "email": (
        "[Writing by email|Switching to email|Trying email now] because [the chat|your chat agent|live chat] "
        "[couldn't help|just closed the conversation|didn't solve it] [on {prev_date}|yesterday|].",
        "[Following up on|Same issue as] [my chat|the chat conversation] [from {prev_date}|earlier this week] - "
        "[it's still not fixed|nothing has changed|still broken].",
        "[Your chat support|The chat agent] [said it was fixed|promised a call back|told me to wait], [but|and] "
        "[it isn't|nobody called|I'm still waiting].",
    ),
    "phone": (
        "[Calling|I'm calling] because [chat and email|nobody on chat or by email|your chat and email support] "
        "[haven't helped|didn't get anywhere|went nowhere].",
        "[I tried|I already tried] [chat|the chat|live chat] [on {prev_date}|earlier this week] and [emailed|sent "
        "an email] [after that|too|yesterday], [and still|but still] [no fix|nothing|no answer].",
        "[I need to speak to someone|I want a person on the phone] [about|regarding] {topic}, [chat and email|"
        "writing in] [got me nowhere|hasn't worked].",
    ),
}

THANKS: tuple[str, ...] = (
    "[Thanks|Thank you|Many thanks] [for sorting this out|for fixing that|for the quick turnaround|"
    "{agent_first}]! [Everything works now|All good on our end|Much appreciated|You're a star].",
    "[Great|Perfect|Wonderful], [it's working again|the issue is gone|we're back in business]. [Thanks a lot|"
    "Really appreciate the help|Thank you for your patience with me]!",
)

SARCASM: tuple[str, ...] = (
    "Oh great, another outage. Love paying for downtime.",
    "[Oh great|Fantastic|Wonderful|Brilliant|Oh perfect], [another outage|{feature} is broken again|the export "
    "failed again|another 'quick fix' that broke something else]. [Love paying for downtime|Truly the highlight "
    "of my week|Exactly what I needed today|Just what we needed before the deadline].",
    "[Wow|Amazing|Impressive], [{n} days|two weeks|a whole month] and [still no fix|still waiting|not a single "
    "update]. [Stellar support as always|Really world-class service|Five stars, would wait again].",
    "[Thanks so much for|Thanks a lot for|Great job on] [the 'fix'|the update|the new release] that [broke {feature}|"
    "logged everyone out|wiped our filters]. [Really appreciate it|Very helpful|Much appreciated].",
    "[Nothing says|Nothing screams] ['enterprise-ready'|'reliable'|'best-in-class'] like [{feature} crashing "
    "every morning|an export that takes an hour|a status page that says all systems operational while "
    "nothing works].",
    "[Sure|Yeah|Right], [I'll just|we'll just] [tell our clients|wait another week|do it manually in Excel] "
    "[then|I guess]. [Totally fine|No problem at all|Love that for us].",
    "[Can't wait for|Really looking forward to] [the next outage|reading another 'we're investigating'|renewing at "
    "the higher price].",
    "[So glad|Glad] [I pay|we pay|we're paying] {amount} [a month|a year] for [a loading spinner|a tool that's down "
    "half the time|the privilege of exporting by hand].",
    "[Oh good|Great], {error} [again|one more time|for the third time today]. [Very cool|Love it|Classic].",
)

FORMAL_ESCALATION: dict[str, tuple[str, ...]] = {
    "greeting": ("Dear {product} Support team,", "Dear {agent_first},", "Good afternoon,", "Dear Sir or Madam,"),
    "status": (
        "Please advise on the current status of ticket {ticket} as this has now been outstanding for {bdays} "
        "business days.",
        "[I am writing to|I write to] [follow up on|request an update on] ticket {ticket}, which [has now been|"
        "has been] open for {bdays} business days[ without resolution|].",
        "[Further to|Following] [my previous correspondence|our earlier messages|my email of {prev_date}], "
        "[we would appreciate|I would be grateful for] an update on ticket {ticket}.",
    ),
    "body": (
        "[We would appreciate|I would be grateful for] [an update|a substantive update|a clear timeline for "
        "resolution] at your earliest convenience.",
        "[Kindly note that|Please note that|For context,] [this matter|the issue] [continues to affect|is now "
        "affecting] [our {dept} team|{n} of our users|our reporting to the board].",
        "[We have yet to receive|We have not yet received] [a root-cause analysis|a workaround|a response beyond "
        "the initial acknowledgement].",
        "[I would ask that|We request that] this [be escalated|is escalated] to [the appropriate team|a senior "
        "engineer|your account management team].",
        "[Given our renewal on {renewal}|As our contract renewal is approaching on {renewal}], we [will need to "
        "review our options|need to understand whether this will be resolved].",
        "[We trust|We hope] this [will receive|can receive] the [appropriate|necessary] [priority|attention].",
    ),
    "closing": ("Kind regards,", "Yours sincerely,", "Best regards,", "Regards,"),
    "signature": (
        "{first} {last}\n{title}\n{organisation}",
        "{first} {last}\n{title}, {organisation}\n{phone}",
        "{first} {last}\n{organisation}\n{email}",
    ),
}

CSAT_COMMENTS: dict[str, tuple[str, ...]] = {
    "low": (
        "[Took way too long|Took days|Slow response][ to resolve|]. [Not happy|Disappointed].",
        "[The issue|The problem] [isn't really fixed|keeps coming back|was never properly solved].",
        "[Agent didn't read|Nobody read] my [message|ticket] [properly|carefully].",
        "[Had to explain|Explained] the same thing [three times|over and over].",
    ),
    "mid": (
        "[It got fixed|Resolved] [eventually|in the end], [but it took a while|though slowly].",
        "[OK|Fine|Acceptable] [support|answer], [nothing special|could be faster].",
        "[Helpful|Friendly] agent but [the fix|the workaround] is [clunky|temporary].",
    ),
    "high": (
        "[Super|Very|Really] [fast|quick|helpful] [response|support|agent][, thanks|]!",
        "{agent_first} [was great|was fantastic|solved it in minutes]!",
        "[Great|Excellent|Perfect] [service|support], [thank you|thanks a lot|much appreciated].",
        "[Quick and clear|Clear explanation|Solved first time]. [Thanks|Love it]!",
    ),
}

NPS_COMMENTS: dict[str, tuple[str, ...]] = {
    "detractor": (
        "[Too many outages|Reliability is poor|Too buggy lately][ recently| this quarter|].",
        "[Support is slow|Support takes days to answer] and [issues keep coming back|nothing gets fixed].",
        "[Too expensive|Overpriced] for [what we get|the quality|the number of bugs].",
        "[We're looking at|Evaluating] [alternatives|other tools] [right now|for next year].",
    ),
    "passive": (
        "[Does the job|It works|Decent tool][, but|;] [the reporting could be better|{feature} needs work|some "
        "features are missing].",
        "[Good product|Solid tool], [support could be faster|pricing is a bit high].",
        "[Mostly fine|OK overall]. [Would like|Missing] [better {integration} sync|offline mode|more templates].",
    ),
    "promoter": (
        "[Love|We love|The team loves] {product}[!| - {feature} is a game changer.| - best PM tool we've used.]",
        "[Great|Fantastic|Excellent] [product|tool] and [amazing|very responsive|friendly] support.",
        "[Recommended it to|Already recommended it to] [two other teams|our partners|friends at other companies].",
        "[Easy to use|Intuitive] and [reliable|fast]. [Keep it up|Thanks]!",
    ),
}
