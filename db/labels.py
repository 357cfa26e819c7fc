"""Labels chosen at run time (a tab, a category, a field, a contact kind): literal tables, so that Babel
extracts every one of them. Written by tools/i18n_convert.py from the former key catalogue; edit freely."""

from __future__ import annotations

from db.i18n import N_, NP_

ANALYTICS_STEP = {
    "summary": N_("Summing up the purchases"),
    "fit": N_("Fitting the lifetime-value models"),
    "scoring": N_("Scoring the clients"),
    "classes": N_("Classes, scores and segments"),
    "aggregates": N_("Dashboard tables"),
    "publish": N_("Publishing"),
}

CARD_CHANNEL = {
    "shop": N_("shop"),
    "online": N_("online"),
    "phone": N_("phone"),
}

CARD_COL = {
    "date": N_("Date"),
    "items": N_("Items"),
    "amount": N_("Amount"),
    "profit": N_("Profit"),
    "channel": N_("Channel"),
    "product": N_("Product"),
    "from": N_("From"),
    "until": N_("Until"),
    "kind": N_("Kind"),
    "author": N_("Author"),
    "text": N_("Text"),
    "outcome": N_("Outcome"),
    "due": N_("Due"),
    "done": N_("Done"),
    "assignee": N_("Assignee"),
}

CARD_F = {
    "last_name": N_("Last name"),
    "first_name": N_("First name"),
    "middle_name": N_("Middle name"),
    "gender": N_("Gender"),
    "birth_date": N_("Birth date"),
    "company": N_("Company"),
    "position": N_("Position"),
    "region": N_("Region"),
    "city": N_("City"),
    "address": N_("Address"),
    "postal_address": N_("Postal address"),
    "source": N_("Source"),
    "referred_by_id": N_("Referred by"),
    "assigned_to": N_("Salesperson"),
    "tags": N_("Tags"),
    "notes": N_("Notes"),
    "consent_email": N_("E-mail consent"),
    "consent_email_source": N_("E-mail source"),
    "consent_sms": N_("SMS consent"),
    "consent_sms_source": N_("SMS source"),
    "contacts": N_("Contacts"),
    "relatives": N_("Relatives"),
}

CARD_FIELDS = {
    "title": N_("Custom fields"),
    "name": N_("Name"),
    "name_hint": N_("the key of the stored values: a-z, 0-9 and _"),
    "label": N_("Label"),
    "type": N_("Type"),
    "choices": N_("Choices"),
    "choices_hint": N_("for a choice field: comma-separated"),
    "add": N_("Add field"),
    "update": N_("Save field"),
    "delete": N_("Delete field"),
    "up": N_("Move up"),
    "down": N_("Move down"),
    "new": N_("New field"),
    "stale": N_("Someone changed this field a moment ago; it now shows their version."),
    "delete_ask": N_("Delete the field '{label}'? Values already typed into cards are kept and come back if a field "
                     "of the same name is created again."),
}

CARD_FIELDS_TYPE = {
    "text": N_("text"),
    "number": N_("number"),
    "date": N_("date"),
    "choice": N_("choice"),
    "bool": N_("yes/no"),
}

CARD_INTERACTION = {
    "call": N_("call"),
    "meeting": N_("meeting"),
    "email": N_("e-mail"),
    "sms": N_("SMS"),
    "note": N_("note"),
}

CARD_KIND = {
    "mobile": N_("mobile"),
    "home": N_("home phone"),
    "work": N_("work phone"),
    "email": N_("e-mail"),
    "telegram": N_("Telegram"),
    "whatsapp": N_("WhatsApp"),
    "skype": N_("Skype"),
    "vk": N_("VK"),
    "website": N_("website"),
}

CARD_RELATION = {
    "child": N_("child"),
    "spouse": N_("spouse"),
    "parent": N_("parent"),
    "other": N_("other"),
}

CARD_TAB = {
    "main": N_("Main"),
    "contacts": N_("Contacts"),
    "family": N_("Family"),
    "purchases": N_("Purchases"),
    "activity": N_("Activity"),
    "reminders": N_("Reminders"),
    "custom": N_("Custom"),
    "consent": N_("Consent"),
}

# Whole sentences, not "Show the {tab} tab": a binding's tooltip is made when its class is, in English, and
# is said again in the settled language only if it is a message of its own.
CARD_TAB_TOOLTIP = {
    "main": N_("Show the main tab"),
    "contacts": N_("Show the contacts tab"),
    "family": N_("Show the family tab"),
    "purchases": N_("Show the purchases tab"),
    "activity": N_("Show the activity tab"),
    "reminders": N_("Show the reminders tab"),
    "custom": N_("Show the custom fields tab"),
    "consent": N_("Show the consent tab"),
}

CLIENTS_CATEGORY = {
    "potential": N_("potential"),
    "one-time": N_("one-time"),
    "regular": N_("regular"),
}

CLIENTS_FILTER = {
    "category": N_("Category"),
    "segment": N_("Segment"),
    "segment_id": N_("Segment"),
    "tag": N_("Interest (tag)"),
    "region": N_("Region"),
    "city": N_("City"),
    "assigned_to": N_("Salesperson (login)"),
    "gender": N_("Gender"),
    "age_min": N_("Age from"),
    "age_max": N_("Age to"),
    "has_children": N_("Has children"),
    "birthday_within": N_("Birthday within days"),
    "no_purchase_days": N_("No purchase for days"),
    "spent_min": N_("Spent from"),
    "spent_max": N_("Spent up to"),
    "custom": N_("Custom field = value"),
    "abc_class": N_("ABC class"),
    "ae_class": N_("A–E class"),
    "rfm_segment": N_("RFM segment"),
    "rfm_cell": N_("R × F"),
    "segment_move": N_("Moved (RFM)"),
    "abc_move": N_("Moved (ABC)"),
    "ae_move": N_("Moved (A–E)"),
    "cohort": N_("First purchase in"),
    "cohort_back": N_("First purchase in, bought again within 90 days"),
    "cohort_not_back": N_("First purchase in, no second purchase within 90 days"),
    "month_revenue": N_("Bought or refunded in"),
    "top_value": N_("Top by expected 12-month value"),
    "analytics_category": N_("Bought (analytics)"),
    "inactive_days": N_("Quiet for days (analytics)"),
    "clv_bucket": N_("Expected 12-month value, bucket"),
    "pareto_top": N_("Top buyers"),
    "archived": N_("Archived"),
}

CLIENTS_GENDER = {
    "m": N_("male"),
    "f": N_("female"),
}

CLIENTS_SORT = {
    "name": N_("name"),
    "last_purchase": N_("last purchase"),
    "total_spent": N_("total spent"),
    "created": N_("date added"),
    "birthday": N_("next birthday"),
}

DASHBOARD_BOUGHT = {
    "prospect": N_("Never bought"),
    "one-time": N_("Bought once"),
    "regular": N_("Regular (2+)"),
    "buyer": N_("Bought at least once"),
    "all": N_("Every client analysed"),
}

# Why the lifetime value is not shown, without the figures of the refresh that found it (the dashboard has
# none of them): keyed by the sentence db/analytics/clv.py raised, which the run stores as its reason.
DASHBOARD_CLV_UNRELIABLE = {
    "Lifetime value is not reliable yet: {count} buyers, at least {minimum} are needed.":
        N_("Lifetime value is not reliable yet: too few buyers (at least 500 are needed)."),
    "Lifetime value is not reliable yet: {days} days of history, {minimum} are needed.":
        N_("Lifetime value is not reliable yet: the purchase history is too short (at least 180 days are needed)."),
    "Lifetime value is not reliable yet: {count} repeat buyers, {minimum} are needed.":
        N_("Lifetime value is not reliable yet: too few clients have bought twice."),
}
CLV_FIT_FAILED = N_("Lifetime value is not reliable: the models did not fit these data.")

DASHBOARD_TAB = {
    "classes": N_("1 Classes"),
    "rfm": N_("2 RFM"),
    "revenue": N_("3 Revenue"),
    "value": N_("4 Value"),
    "movement": N_("5 Movement"),
    "retention": N_("6 Retention"),
}

DASHBOARD_TITLE = {
    "abc": N_("ABC by revenue in the period"),
    "ae": N_("A–E by profitability and potential (E: cost more than they bring)"),
    "buyers": N_("Buyers as of the analysis date"),
    "segments": N_("RFM segments"),
    "rf": N_("Clients by R score (rows) and F score (columns)"),
    "months": N_("Revenue by month, and each month's new clients"),
    "pareto": N_("Pareto curve: the top share of buyers and their share of the revenue"),
    "clv": N_("Expected value of the next 12 months"),
    "top": N_("Top clients by expected value"),
    "inactive": N_("Gone quiet, by what they used to spend (Enter opens the card)"),
    "move_segment": N_("Moves between RFM segments since the refresh before"),
    "move_abc": N_("ABC: from (rows) to (columns)"),
    "move_ae": N_("A–E: from (rows) to (columns)"),
}

EXPORT_UI_FORMAT = {
    "csv": N_("CSV for Excel"),
    "xlsx": N_("Excel workbook (XLSX)"),
    "vcf": N_("vCard for address books"),
    "txt": N_("Mailing list (Name <e-mail>)"),
}

IMPORT_WHAT = {
    "amount": N_("amount"),
    "cost": N_("cost"),
    "quantity": N_("quantity"),
}

MAILING_HELP = {
    "campaign": N_("make and run mailing campaigns"),
    "create": N_("make a draft campaign from a template file; prints its id"),
    "segment": N_("a saved segment's name, or 'all' for every client"),
    "template": N_("the template file: 'Subject: ...', optional 'CTA: label | url' and 'HTML: file' lines, a blank "
                   "line, the body (an SMS template is the body alone)"),
    "at": N_("when to start sending: 2026-12-24 10:00 in the shop's time zone, or ISO 8601 with an offset"),
    "start": N_("enqueue the audience and let 'clientbase send' deliver"),
    "pause": N_("stop handing the campaign's messages to the workers"),
    "resume": N_("go on with a paused campaign"),
    "cancel": N_("stop the campaign for good; queued messages are cancelled"),
    "list": N_("list the campaigns"),
    "status": N_("counts by state and by skip reason"),
    "send": N_("deliver queued messages (SMTP from CLIENTBASE_SMTP_URL, SMS to CLIENTBASE_SMS_FILE)"),
    "once": N_("deliver what is due now, then exit"),
    "rate": N_("at most this many messages per second"),
    "per_hour": N_("at most this many messages per hour (a provider's cap)"),
    "batch": N_("messages claimed at a time by each worker"),
    "lease": N_("seconds a claim holds before another worker may take it over (renewed while alive)"),
    "unsubscribe": N_("suppress an e-mail address or phone number at once"),
    "unsubscribe_address": N_("the "
                              "e-mail address or phone number, or 'serve' to run the one-click unsubscribe service"),
    "listen": N_("with 'serve': where the service listens (behind the reverse proxy that does TLS)"),
}

ROLE = {
    "admin": N_("administrator"),
    "manager": N_("manager"),
    "sales": N_("salesperson"),
    "mailer": N_("mail delivery"),
    "none": N_("no clientbase role"),
}

# The mailing's states and reasons, stored in English in the database and said in the language at the edge.
CAMPAIGN_STATUS = {
    "draft": NP_("campaign", "draft"),
    "scheduled": NP_("campaign", "scheduled"),
    "sending": NP_("campaign", "sending"),
    "paused": NP_("campaign", "paused"),
    "cancelled": NP_("campaign", "cancelled"),
    "done": NP_("campaign", "done"),
}

CAMPAIGN_ACTION = {
    "started": NP_("campaign action", "started"),
    "paused": NP_("campaign action", "paused"),
    "resumed": NP_("campaign action", "resumed"),
    "cancelled": NP_("campaign action", "cancelled"),
}

MESSAGE_STATE = {
    "queued": NP_("message", "queued"),
    "sending": NP_("message", "sending"),
    "sent": NP_("message", "sent"),
    "failed": NP_("message", "failed"),
    "skipped": NP_("message", "skipped"),
    "cancelled": NP_("message", "cancelled"),
}

SKIP_REASON = {
    "no consent": N_("no consent"),
    "no valid address": N_("no valid address"),
    "suppressed": N_("suppressed"),
    "duplicate address": N_("duplicate address"),
    "frequency cap": N_("frequency cap"),
    "holdout": N_("holdout (a split test's control group)"),
}

# The stages `clientbase demo` reports while it fills a base.
DEMO_STAGE = {
    "companies": NP_("demo stage", "companies"),
    "clients": NP_("demo stage", "clients"),
    "purchases": NP_("demo stage", "purchases"),
    "contacts": NP_("demo stage", "contacts"),
    "indexes": NP_("demo stage", "indexes"),
    "analyse": NP_("demo stage", "statistics"),
}

# The RFM map's own segment names (migration 0011), said in the language; a name the administrator gives a
# segment of their own is shown as they wrote it.
RFM_SEGMENT = {
    "Champions": NP_("RFM segment", "Champions"),
    "Loyal": NP_("RFM segment", "Loyal"),
    "New": NP_("RFM segment", "New"),
    "Promising": NP_("RFM segment", "Promising"),
    "Potential loyalists": NP_("RFM segment", "Potential loyalists"),
    "Need attention": NP_("RFM segment", "Need attention"),
    "About to sleep": NP_("RFM segment", "About to sleep"),
    "Can't lose them": NP_("RFM segment", "Can't lose them"),
    "At risk": NP_("RFM segment", "At risk"),
    "Lost": NP_("RFM segment", "Lost"),
    "Hibernating": NP_("RFM segment", "Hibernating"),
    "Prospects": NP_("RFM segment", "Prospects"),
    # The refresh's name for a buyer whom no rule of an edited map matches.
    "Unmatched": NP_("RFM segment", "Unmatched"),
}


def rfm_segment(name: str) -> str:
    """How a segment's name reads in the current language."""
    from db.i18n import t

    return t(RFM_SEGMENT[name]) if name in RFM_SEGMENT else name

# Stored codes of enumerated columns that no screen above names yet, said in an audit change (db/audit/fields.py).
CLIENT_KIND = {
    "person": N_("person"),
    "company": N_("company"),
}

MAILING_CHANNEL = {
    "email": N_("e-mail"),
    "sms": N_("SMS"),
}

CAMPAIGN_PURPOSE = {
    "marketing": N_("marketing"),
    "greeting": N_("greeting"),
    "service": N_("service"),
}

SUPPRESSION_REASON = {
    "unsubscribed": N_("unsubscribed"),
    "bounced": N_("bounced"),
    "complaint": N_("complaint"),
    "manual": N_("added by hand"),
}

# What each trigger is called where the admin reads it (the forecast, the run's report, the mailing screen).
TRIGGER = {
    "birthday": N_("birthdays"),
    "child_birthday": N_("children's birthdays"),
    "holiday": N_("holiday"),
    "subscription": N_("subscriptions ending"),
    "reactivation": N_("reactivation"),
}
