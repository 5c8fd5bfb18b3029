"""Deterministic generation of the sandbox portal: owners, forms, contacts, submissions, email events.

Everything is stored column-wise in `array` arrays of small codes and epoch-ms integers, so a
million contacts with their activity take a few hundred MB; strings are rebuilt on read.
"""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from array import array
from dataclasses import dataclass, field
from typing import Any

from leadscore.sandbox.property_catalog import ANALYTICS_SOURCES, LEAD_STATUSES, STAGES

DAY_MS = 86_400_000
NO_TIME = 0  # "unset" marker in epoch-ms columns
NONE_CODE = 0xFFFF  # "unset" marker in form-code columns
PORTAL_ID = 62515

FIRST_NAMES = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "daniel",
    "lisa",
    "matthew",
    "nancy",
    "anthony",
    "betty",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "emily",
    "paul",
    "kimberly",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "melissa",
    "george",
    "deborah",
    "timothy",
    "stephanie",
    "ronald",
    "rebecca",
    "jason",
    "laura",
    "edward",
    "helen",
    "jeffrey",
    "sharon",
    "ryan",
    "cynthia",
    "jacob",
    "kathleen",
    "gary",
    "amy",
    "nicholas",
    "angela",
    "eric",
    "shirley",
    "jonathan",
    "anna",
    "stephen",
    "brenda",
    "larry",
    "pamela",
    "justin",
    "emma",
    "scott",
    "nicole",
    "brandon",
    "samantha",
    "benjamin",
    "katherine",
    "samuel",
    "christine",
    "gregory",
    "debra",
    "alexander",
    "rachel",
    "frank",
    "carolyn",
    "patrick",
    "janet",
    "raymond",
    "maria",
    "jack",
    "olivia",
    "dennis",
    "heather",
    "jerry",
    "priya",
    "tyler",
    "diane",
    "aaron",
    "julie",
    "jose",
    "joyce",
    "adam",
    "victoria",
    "nathan",
    "kelly",
    "henry",
    "christina",
    "lukas",
    "sofia",
    "mateo",
    "chloe",
    "hiroshi",
    "yuki",
    "wei",
    "mei",
    "ahmed",
    "fatima",
    "carlos",
    "lucia",
    "pierre",
    "camille",
    "jonas",
    "lea",
    "arjun",
    "ananya",
    "olga",
    "ivan",
    "sven",
    "ingrid",
]
LAST_NAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "gomez",
    "phillips",
    "evans",
    "turner",
    "diaz",
    "parker",
    "cruz",
    "edwards",
    "collins",
    "reyes",
    "stewart",
    "morris",
    "morales",
    "murphy",
    "cook",
    "rogers",
    "gutierrez",
    "ortiz",
    "morgan",
    "cooper",
    "peterson",
    "bailey",
    "reed",
    "kelly",
    "howard",
    "ramos",
    "kim",
    "cox",
    "ward",
    "richardson",
    "watson",
    "brooks",
    "chavez",
    "wood",
    "james",
    "bennett",
    "gray",
    "mendoza",
    "ruiz",
    "hughes",
    "price",
    "alvarez",
    "castillo",
    "sanders",
    "patel",
    "myers",
    "long",
    "ross",
    "foster",
    "mueller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "dubois",
    "laurent",
    "bernard",
    "tanaka",
    "suzuki",
    "sato",
    "wang",
    "li",
    "zhang",
    "chen",
    "singh",
    "kumar",
    "sharma",
    "silva",
    "santos",
    "costa",
    "rossi",
    "russo",
    "ferrari",
    "johansson",
    "andersson",
    "nielsen",
    "jensen",
    "novak",
    "kowalski",
]
COMPANY_WORDS_A = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Cyberdyne",
    "Tyrell",
    "Massive",
    "Dynamic",
    "Aperture",
    "Gringotts",
    "Oscorp",
    "Nakatomi",
    "Virtucon",
    "Monarch",
    "Blue",
    "Sun",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Litware",
    "Adatum",
    "Tailspin",
    "Wingtip",
    "Proseware",
    "Lucerne",
    "Alpine",
    "Summit",
    "Harbor",
    "Granite",
    "Cedar",
    "Maple",
    "Falcon",
    "Beacon",
    "Meridian",
    "Vertex",
    "Quantum",
    "Nimbus",
    "Orbit",
    "Pioneer",
    "Keystone",
]
COMPANY_WORDS_B = [
    "Systems",
    "Labs",
    "Logistics",
    "Analytics",
    "Health",
    "Capital",
    "Software",
    "Solutions",
    "Networks",
    "Robotics",
    "Foods",
    "Energy",
    "Media",
    "Partners",
    "Retail",
    "Cloud",
    "Security",
    "Manufacturing",
    "Consulting",
    "Bio",
]
FREE_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "protonmail.com",
    "gmx.de",
)
SPAM_DOMAINS = ("mailinator.com", "test.com", "example.com", "asdf.com")
SPAM_NAMES = (("asdf", "qwer"), ("test", "test"), ("aaa", "bbb"), ("xxx", "xxx"), ("a", "a"))
JOB_TITLES = (
    "",
    "",
    "",
    "CEO",
    "Founder",
    "Co-Founder & CTO",
    "CTO",
    "CFO",
    "COO",
    "VP Marketing",
    "VP of Sales",
    "VP Engineering",
    "Head of Growth",
    "Head of Revenue Operations",
    "Director of Marketing",
    "Director of IT",
    "Director, Demand Generation",
    "Marketing Manager",
    "Sales Manager",
    "Product Manager",
    "Senior Product Manager",
    "Engineering Manager",
    "Software Engineer",
    "Senior Software Engineer",
    "Data Analyst",
    "Marketing Coordinator",
    "Sales Development Representative",
    "Account Executive",
    "Customer Success Manager",
    "Operations Manager",
    "HR Manager",
    "Office Manager",
    "Consultant",
    "Student",
    "Intern",
    "Freelancer",
    "Owner",
    "President",
    "IT Administrator",
    "Procurement Specialist",
)
INDUSTRIES = (
    "",
    "",
    "Computer Software",
    "Information Technology and Services",
    "Marketing and Advertising",
    "Financial Services",
    "Hospital & Health Care",
    "Retail",
    "Manufacturing",
    "Education Management",
    "Higher Education",
    "Real Estate",
    "Telecommunications",
    "Logistics and Supply Chain",
    "Construction",
    "Consumer Goods",
    "Insurance",
    "Non-Profit Organization Management",
    "Automotive",
    "Government Administration",
    "Media Production",
)
NUM_EMPLOYEES = (
    "",
    "",
    "",
    "1-5",
    "5-25",
    "25-50",
    "50-100",
    "100-500",
    "500-1000",
    "1000+",
    "1,000",
    "50-100",
    "10",
    "250",
    "5000",
    "10000+",
    "2-10",
    "11-50",
    "51-200",
    "201-500",
)
COUNTRIES = (
    ("United States", 30),
    ("USA", 4),
    ("US", 2),
    ("United Kingdom", 9),
    ("Germany", 8),
    ("France", 5),
    ("Canada", 6),
    ("Australia", 4),
    ("India", 6),
    ("Netherlands", 3),
    ("Brazil", 3),
    ("Spain", 3),
    ("Japan", 2),
    ("Singapore", 1),
    ("Sweden", 2),
    ("", 12),
)
SOURCE_WEIGHTS = (30, 12, 10, 9, 10, 5, 16, 5, 3)
STAGE_WEIGHTS = (18, 44, 12, 6, 6, 9, 1, 1)  # same order as STAGES; ~3% have no stage
EVENT_TYPES = ("SENT", "DELIVERED", "OPEN", "CLICK", "BOUNCE", "STATUSCHANGE", "PROCESSED")
FORM_CATALOG = (
    # name, funnel tier, form type
    ("Newsletter signup", "TOFU", "hubspot"),
    ("Ebook download", "TOFU", "hubspot"),
    ("Whitepaper: State of RevOps", "TOFU", "hubspot"),
    ("Blog subscription", "TOFU", "blog_comment"),
    ("Webinar registration", "MOFU", "hubspot"),
    ("Case study download", "MOFU", "hubspot"),
    ("Product tour video", "MOFU", "hubspot"),
    ("Request a demo", "BOFU", "hubspot"),
    ("Pricing quote", "BOFU", "hubspot"),
    ("Contact sales", "BOFU", "hubspot"),
    ("Free trial signup", "BOFU", "hubspot"),
)
TIER_WEIGHTS = {"TOFU": 6, "MOFU": 3, "BOFU": 1}
CAMPAIGN_COUNT = 48  # about two marketing emails a week over 180 days
WINDOW_DAYS = 180


@dataclass
class FormDef:
    """One seeded form."""

    id: str
    name: str
    tier: str
    form_type: str
    created_ms: int
    page_url: str


@dataclass
class Owner:
    """One seeded or added owner, in HubSpot's owner shape."""

    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    archived: bool
    created_ms: int
    teams: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ContactColumns:
    """Base contact rows, one entry per contact in each array."""

    n: int
    first: array[int]
    last: array[int]
    company: array[int]
    free_domain: array[int]  # 0 = business domain of the company; k = FREE_DOMAINS[k-1]
    spam: array[int]  # 0 = real, k = SPAM_NAMES[k-1]
    jobtitle: array[int]
    industry: array[int]
    numemployees: array[int]
    annualrevenue: array[int]  # thousands of dollars; 0 = unset
    country: array[int]
    source: array[int]
    latest_source: array[int]
    stage: array[int]  # 0 = unset, k = STAGES[k-1]
    lead_status: array[int]  # 0 = unset
    owner: array[int]  # 0 = no owner, k = owners[k-1]
    optout: array[int]
    visits: array[int]
    pageviews: array[int]
    last_visit: array[int]
    createdate: array[int]
    lastmodified: array[int]
    delivered: array[int]
    opened: array[int]
    clicked: array[int]
    bounced: array[int]
    last_send: array[int]
    last_open: array[int]
    last_click: array[int]
    conversions: array[int]
    unique_conversions: array[int]
    first_form: array[int]
    recent_form: array[int]
    first_conversion: array[int]
    recent_conversion: array[int]


@dataclass
class ActivityLog:
    """Time-ordered activity rows (newest first) with a per-contact index."""

    at: array[int]  # epoch ms, descending
    contact: array[int]
    kind: array[int]  # event type code, or form code for submissions
    campaign: array[int]
    contact_start: array[int]  # CSR offsets into by_contact, n + 1 entries
    by_contact: array[int]  # positions (in the time order) grouped by contact


@dataclass
class SeededPortal:
    """The whole generated portal."""

    seed: int
    now_ms: int
    owners: list[Owner]
    forms: list[FormDef]
    campaigns: list[tuple[int, int, str]]  # (campaign id, send time, subject)
    contacts: ContactColumns
    submissions: ActivityLog
    email_events: ActivityLog
    company_names: list[str]
    company_domains: list[str]


def _deterministic_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _owners(rng: random.Random, now_ms: int) -> list[Owner]:
    owners: list[Owner] = []
    teams = [("Inbound Sales", "101"), ("Outbound Sales", "102"), ("Enterprise", "103")]
    for k in range(12):
        first = FIRST_NAMES[(k * 7 + 3) % len(FIRST_NAMES)]
        last = LAST_NAMES[(k * 11 + 5) % len(LAST_NAMES)]
        team = teams[k % len(teams)]
        owners.append(
            Owner(
                id=str(70_000_001 + k * 17 + rng.randrange(16)),
                email=f"{first}.{last}@sandbox-sales.example",
                first_name=first.title(),
                last_name=last.title(),
                user_id=9_100_000 + k,
                archived=k >= 10,  # two former reps: their contacts keep a stale owner id
                created_ms=now_ms - (900 - k * 40) * DAY_MS,
                teams=[{"id": team[1], "name": team[0], "primary": True}],
            )
        )
    return owners


def _forms(rng: random.Random, now_ms: int) -> list[FormDef]:
    forms = []
    for k, (name, tier, ftype) in enumerate(FORM_CATALOG):
        slug = name.lower().replace(":", "").replace(" ", "-")
        forms.append(
            FormDef(
                id=_deterministic_uuid(rng),
                name=name,
                tier=tier,
                form_type=ftype,
                created_ms=now_ms - (400 - k * 10) * DAY_MS,
                page_url=f"https://www.sandbox-portal.example/{slug}",
            )
        )
    return forms


def _companies(rng: random.Random, count: int) -> tuple[list[str], list[str]]:
    names: list[str] = []
    domains: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        a, b = rng.choice(COMPANY_WORDS_A), rng.choice(COMPANY_WORDS_B)
        name = f"{a} {b}"
        if name in seen:
            name = f"{a} {b} {len(names)}"
        seen.add(name)
        names.append(name)
        domains.append(name.lower().replace(" ", "") + ".example.com")
    return names, domains


def _log_from_rows(
    rows_at: array[int],
    rows_contact: array[int],
    rows_kind: array[int],
    rows_campaign: array[int],
    n_contacts: int,
) -> ActivityLog:
    """Sort generated rows (grouped by contact) into newest-first order, keep a contact index."""
    m = len(rows_at)
    order = sorted(range(m), key=rows_at.__getitem__, reverse=True)
    at = array("q", (rows_at[i] for i in order))
    contact = array("i", (rows_contact[i] for i in order))
    kind = array("H", (rows_kind[i] for i in order))
    campaign = array("I", (rows_campaign[i] for i in order))
    position = array("i", bytes(4 * m))
    for pos, i in enumerate(order):
        position[i] = pos
    del order
    # Rows were generated contact by contact, so generation order is already grouped.
    start = array("i", bytes(4 * (n_contacts + 1)))
    for c in rows_contact:
        start[c + 1] += 1
    for i in range(n_contacts):
        start[i + 1] += start[i]
    return ActivityLog(at, contact, kind, campaign, start, position)


def generate_portal(contacts: int, seed: int, now_ms: int) -> SeededPortal:
    """Build the seeded portal; same (contacts, seed, now day) gives the same portal."""
    rng = random.Random(seed)
    owners = _owners(rng, now_ms)
    forms = _forms(rng, now_ms)
    company_names, company_domains = _companies(rng, max(50, min(20_000, contacts // 8)))
    window_start = now_ms - WINDOW_DAYS * DAY_MS
    campaigns = []
    for k in range(CAMPAIGN_COUNT):
        send = window_start + int((k + 0.5) * WINDOW_DAYS * DAY_MS / CAMPAIGN_COUNT)
        send += rng.randrange(-6, 6) * 3_600_000
        campaigns.append(
            (31_000_000 + k * 101, min(send, now_ms - 3_600_000), f"Newsletter #{k + 1}")
        )

    n = contacts
    cols = {
        name: array(code, bytes(array(code).itemsize * n)) for name, code in _COLUMN_CODES.items()
    }
    c = ContactColumns(n=n, **cols)
    sub_at, sub_contact, sub_form, sub_zero = array("q"), array("i"), array("H"), array("I")
    ev_at, ev_contact, ev_type, ev_campaign = array("q"), array("i"), array("H"), array("I")

    country_weights = [w for _, w in COUNTRIES]
    active_owner_slots = [k + 1 for k, o in enumerate(owners) if not o.archived]
    archived_owner_slots = [k + 1 for k, o in enumerate(owners) if o.archived]
    form_weights_by_stage = []
    for stage_code in range(len(STAGES) + 1):
        late = stage_code >= 4  # SQL and later lean towards bottom-of-funnel forms
        form_weights_by_stage.append(
            [TIER_WEIGHTS[f.tier] * (3 if late and f.tier == "BOFU" else 1) for f in forms]
        )
    rand = rng.random

    # int(random() * n) and bisect over cumulative weights: several times cheaper than
    # randrange()/choices(), which matters at a million contacts.
    def randrange(n: int) -> int:
        return int(rand() * n)

    def weighted(cumulative: list[int]) -> int:
        return bisect.bisect_right(cumulative, rand() * cumulative[-1])

    country_cum = list(itertools.accumulate(country_weights))
    source_cum = list(itertools.accumulate(SOURCE_WEIGHTS))
    stage_cum = list(itertools.accumulate(STAGE_WEIGHTS))
    form_cum_by_stage = [list(itertools.accumulate(w)) for w in form_weights_by_stage]
    n_companies = len(company_names)
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    span_created = 720 * DAY_MS

    for i in range(n):
        spam = rand() < 0.02
        c.spam[i] = randrange(len(SPAM_NAMES)) + 1 if spam else 0
        c.first[i] = randrange(n_first)
        c.last[i] = randrange(n_last)
        c.company[i] = randrange(n_companies)
        c.free_domain[i] = randrange(len(FREE_DOMAINS)) + 1 if rand() < 0.3 else 0
        c.jobtitle[i] = 0 if spam else randrange(len(JOB_TITLES))
        c.industry[i] = randrange(len(INDUSTRIES))
        c.numemployees[i] = randrange(len(NUM_EMPLOYEES))
        c.annualrevenue[i] = 0 if rand() < 0.55 else int(10 ** (2 + rand() * 4))
        c.country[i] = weighted(country_cum)
        source = weighted(source_cum)
        c.source[i] = source
        c.latest_source[i] = source if rand() < 0.6 else randrange(len(ANALYTICS_SOURCES))
        stage = 0 if rand() < 0.03 else weighted(stage_cum) + 1
        if spam:
            stage = 1 if rand() < 0.5 else 2
        c.stage[i] = stage
        c.lead_status[i] = 0 if rand() < 0.6 else randrange(len(LEAD_STATUSES)) + 1
        owned = rand() < (0.35 if stage <= 2 else 0.92)
        if owned and not spam:
            c.owner[i] = (
                archived_owner_slots[randrange(len(archived_owner_slots))]
                if rand() < 0.04
                else active_owner_slots[randrange(len(active_owner_slots))]
            )
        created = now_ms - int(rand() ** 1.6 * span_created) - randrange(DAY_MS)
        c.createdate[i] = created
        visits = 0 if spam else int(rand() ** 2.5 * 40)
        c.visits[i] = visits
        c.pageviews[i] = visits * (1 + randrange(6))
        last_touch = created
        if visits:
            lv = max(created, now_ms - int(rand() ** 2 * 200 * DAY_MS))
            c.last_visit[i] = lv
            last_touch = max(last_touch, lv)

        # Form submissions, in the last 180 days and not before the contact existed.
        n_sub = 0
        if not spam or rand() < 0.5:
            r = rand()
            n_sub = 0 if r < 0.45 else 1 if r < 0.78 else 2 if r < 0.9 else 3 + randrange(4)
        if n_sub:
            form_cum = form_cum_by_stage[stage]
            picked = [weighted(form_cum) for _ in range(n_sub)]
            first_at = recent_at = 0
            first_form = recent_form = NONE_CODE
            lo = max(created, window_start)
            for f in picked:
                at = lo + randrange(max(1, now_ms - lo))
                sub_at.append(at)
                sub_contact.append(i)
                sub_form.append(f)
                sub_zero.append(0)
                if first_at == 0 or at < first_at:
                    first_at, first_form = at, f
                if at > recent_at:
                    recent_at, recent_form = at, f
            c.conversions[i] = n_sub
            c.unique_conversions[i] = len(set(picked))
            c.first_form[i] = first_form
            c.recent_form[i] = recent_form
            c.first_conversion[i] = first_at
            c.recent_conversion[i] = recent_at
            last_touch = max(last_touch, recent_at)
        else:
            c.first_form[i] = NONE_CODE
            c.recent_form[i] = NONE_CODE

        # Marketing email: a handful of sends each, opens ~25%, clicks ~15% of opens.
        optout = rand() < 0.06
        c.optout[i] = 1 if optout else 0
        if not spam:
            engagement = rand() ** 2
            n_sends = randrange(7)
            unsub_at = 0
            delivered = opened = clicked = bounced = 0
            last_send = last_open = last_click = 0
            for _ in range(n_sends):
                cid, send, _subject = campaigns[randrange(CAMPAIGN_COUNT)]
                if send < created:
                    continue
                ev_at.append(send)
                ev_contact.append(i)
                ev_type.append(0)
                ev_campaign.append(cid)
                last_send = max(last_send, send)
                if rand() < 0.03:
                    ev_at.append(send + 2_000 + randrange(60_000))
                    ev_contact.append(i)
                    ev_type.append(4)
                    ev_campaign.append(cid)
                    bounced += 1
                    continue
                ev_at.append(send + 1_000 + randrange(30_000))
                ev_contact.append(i)
                ev_type.append(1)
                ev_campaign.append(cid)
                delivered += 1
                open_at = send + 60_000 + int(rand() ** 3 * 3 * DAY_MS)
                # Nothing happens in the future: a recent send may simply not be opened yet.
                if rand() < 0.1 + 0.5 * engagement and open_at < now_ms:
                    ev_at.append(open_at)
                    ev_contact.append(i)
                    ev_type.append(2)
                    ev_campaign.append(cid)
                    opened += 1
                    last_open = max(last_open, open_at)
                    click_at = open_at + 5_000 + randrange(600_000)
                    if rand() < 0.05 + 0.3 * engagement and click_at < now_ms:
                        ev_at.append(click_at)
                        ev_contact.append(i)
                        ev_type.append(3)
                        ev_campaign.append(cid)
                        clicked += 1
                        last_click = max(last_click, click_at)
                    if optout and unsub_at == 0 and open_at + 30_000 < now_ms:
                        unsub_at = open_at + 30_000
            if optout and unsub_at:
                ev_at.append(unsub_at)
                ev_contact.append(i)
                ev_type.append(5)
                ev_campaign.append(0)
            c.delivered[i] = delivered
            c.opened[i] = opened
            c.clicked[i] = clicked
            c.bounced[i] = bounced
            c.last_send[i] = last_send
            c.last_open[i] = last_open
            c.last_click[i] = last_click
            last_touch = max(last_touch, last_open, last_click, unsub_at)
        # Some later background update (a workflow, an import) within three days, never in the
        # future: spread out so that few contacts share a lastmodifieddate millisecond.
        c.lastmodified[i] = last_touch + int(rand() * min(3 * DAY_MS, now_ms - last_touch))

    submissions = _log_from_rows(sub_at, sub_contact, sub_form, sub_zero, n)
    del sub_at, sub_contact, sub_form, sub_zero
    events = _log_from_rows(ev_at, ev_contact, ev_type, ev_campaign, n)
    return SeededPortal(
        seed=seed,
        now_ms=now_ms,
        owners=owners,
        forms=forms,
        campaigns=campaigns,
        contacts=c,
        submissions=submissions,
        email_events=events,
        company_names=company_names,
        company_domains=company_domains,
    )


_COLUMN_CODES: dict[str, str] = {
    "first": "H",
    "last": "H",
    "company": "H",
    "free_domain": "B",
    "spam": "B",
    "jobtitle": "B",
    "industry": "B",
    "numemployees": "B",
    "annualrevenue": "I",
    "country": "B",
    "source": "B",
    "latest_source": "B",
    "stage": "B",
    "lead_status": "B",
    "owner": "B",
    "optout": "B",
    "visits": "H",
    "pageviews": "H",
    "last_visit": "q",
    "createdate": "q",
    "lastmodified": "q",
    "delivered": "H",
    "opened": "H",
    "clicked": "H",
    "bounced": "H",
    "last_send": "q",
    "last_open": "q",
    "last_click": "q",
    "conversions": "H",
    "unique_conversions": "H",
    "first_form": "H",
    "recent_form": "H",
    "first_conversion": "q",
    "recent_conversion": "q",
}
