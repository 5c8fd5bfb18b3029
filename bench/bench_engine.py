"""Benchmark: contacts scored per second by the rule engine on one core (shipped model).

Builds synthetic populations (properties, a few form submissions and email events per
contact), compiles the rules once and times `evaluate` over a new population in each run.

    .venv/bin/python bench/bench_engine.py [--contacts 20000] [--repeat 5] [--rules PATH]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from pathlib import Path

from leadscore.records import Contact, EmailEvent, FormSubmission
from leadscore.rules import load_model

DAY_MS = 86_400_000
NOW_MS = 1_795_000_000_000
ROOT = Path(__file__).resolve().parents[1]

TITLES = [
    "CEO",
    "VP Sales",
    "Marketing Manager",
    "Engineer",
    "Head of Growth",
    "Intern",
    "Director of IT",
    "Student",
    "Account Executive",
    "",
    "Founder & CTO",
    "Analyst",
]
INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "",
]
COUNTRIES = [
    "United States",
    "Germany",
    "France",
    "Brazil",
    "India",
    "United Kingdom",
    "Canada",
    "",
    "Japan",
    "Netherlands",
]
SIZES = ["1-10", "25", "50-100", "1,000", "5000+", "", "200", "12", "750"]
REVENUES = ["", "500000", "2,500,000", "12000000", "150,000,000", "n/a"]
DOMAINS = [
    "gmail.com",
    "acme.io",
    "globex.example",
    "yahoo.com",
    "initech.example",
    "rivalcrm.example",
    "ourcompany.example",
    "umbrella.example",
]
FIRST = ["Ann", "bob", "Carla", "Dmitri", "asdf", "Eve", "Farid", "Grace", "héloïse", "Ivan"]
LAST = ["Smith", "Jones", "qwerty", "Nguyen", "Müller", "Rossi", "o'Brien", "Kim"]
STAGES = [
    "subscriber",
    "lead",
    "lead",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "",
]
SOURCES = ["ORGANIC_SEARCH", "DIRECT_TRAFFIC", "REFERRALS", "PAID_SEARCH", "EMAIL_MARKETING"]
FEEDBACK = [None, None, None, None, "True SQL", "Not ready", "Unqualified"]


def build_population(n: int, form_ids: list[str], seed: int = 7) -> list[Contact]:
    """`n` contacts with realistic properties and activity (0-4 forms, 0-15 email events)."""
    rng = random.Random(seed)
    contacts = []
    for i in range(n):
        props: dict[str, str | None] = {
            "email": f"user{i}@{rng.choice(DOMAINS)}",
            "firstname": rng.choice(FIRST),
            "lastname": rng.choice(LAST),
            "company": rng.choice(["Acme", "Globex", "zxcvb Ltd", "Initech", ""]),
            "jobtitle": rng.choice(TITLES),
            "industry": rng.choice(INDUSTRIES),
            "country": rng.choice(COUNTRIES),
            "numemployees": rng.choice(SIZES),
            "annualrevenue": rng.choice(REVENUES),
            "phone": rng.choice(["", "+1 555 0100", None]),
            "hs_analytics_num_visits": str(rng.randint(0, 40)),
            "hs_analytics_last_visit_timestamp": str(NOW_MS - rng.randint(0, 200) * DAY_MS),
            "hs_analytics_source": rng.choice(SOURCES),
            "hs_email_optout": rng.choice(["false"] * 9 + ["true"]),
            "lifecyclestage": rng.choice(STAGES),
            "hubspot_owner_id": rng.choice(["501", "502", None]),
            "createdate": str(NOW_MS - rng.randint(1, 700) * DAY_MS),
            "leadscore_sales_feedback": rng.choice(FEEDBACK),
            "hs_object_id": str(i),
        }
        forms = tuple(
            FormSubmission(
                rng.choice(form_ids), NOW_MS - rng.randint(0, 400) * DAY_MS - rng.randint(0, DAY_MS)
            )
            for _ in range(rng.randint(0, 4))
        )
        events = tuple(
            EmailEvent(
                rng.choice(["OPEN", "OPEN", "OPEN", "CLICK", "DELIVERED", "STATUSCHANGE"]),
                NOW_MS - rng.randint(0, 120) * DAY_MS - rng.randint(0, DAY_MS),
                str(rng.randint(3000, 3010)),
                url=rng.choice([None, "https://example.com/pricing", "https://example.com/blog"]),
            )
            for _ in range(rng.randint(0, 15))
        )
        contacts.append(Contact(str(i), props, forms, events))
    return contacts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "scoring.yaml")
    args = parser.parse_args()

    model = load_model(args.rules)
    form_ids = [*model.forms_by_id, "unknown-form"]
    # A different population for every run: the engine's caches only help where values
    # genuinely repeat across contacts, never because the same contact is scored again.
    populations = [
        build_population(args.contacts, form_ids, seed=7 + i) for i in range(args.repeat)
    ]
    # Building the populations leaves a full garbage collection of them due; without this it
    # falls in the first timed run (a third of its time), charged to the engine.
    gc.collect()
    wall_rates, cpu_rates = [], []
    for population in populations:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for contact in population:
            model.evaluate(contact, NOW_MS)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        wall_rates.append(len(population) / wall)
        cpu_rates.append(len(population) / cpu)
    print(f"rules: {args.rules} (version {model.version})")
    print(f"contacts: {args.contacts} x {args.repeat} runs (a new population each run), one core")
    everyone = [c for population in populations for c in population]
    forms = sum(len(c.form_submissions) for c in everyone)
    events = sum(len(c.email_events) for c in everyone)
    print(
        f"activity: {forms / len(everyone):.1f} form submissions and "
        f"{events / len(everyone):.1f} email events per contact"
    )
    # CPU time excludes the time a shared machine gives to other processes.
    for label, rates in (("wall-clock", wall_rates), ("CPU-time", cpu_rates)):
        print(
            f"{label}: best {max(rates):,.0f} contacts/s, median {statistics.median(rates):,.0f} "
            f"contacts/s (runs: {', '.join(f'{r:,.0f}' for r in rates)})"
        )


if __name__ == "__main__":
    main()
