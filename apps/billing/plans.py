"""The platform's default plans; `init_platform` keeps the database in step with this table."""

from __future__ import annotations

from apps.billing.models import Entitlement as E

DEFAULT_PLANS: list[dict] = [
    {
        "code": "starter",
        "name": "Starter",
        "monthly_price_cents": 4900,
        "price_setting": "STRIPE_PRICE_STARTER",
        "entitlements": {
            # Room for the 252-listing sample catalog a new agency can load during onboarding.
            E.LISTINGS: 300,
            E.AI_REPLIES: 1000,
            E.CHANNELS: 1,
            E.SEATS: 2,
            E.CAMPAIGNS: 2,
            E.WEBHOOK_ENDPOINTS: 2,
        },
    },
    {
        "code": "pro",
        "name": "Pro",
        "monthly_price_cents": 14900,
        "price_setting": "STRIPE_PRICE_PRO",
        "entitlements": {
            E.LISTINGS: 2500,
            E.AI_REPLIES: 10000,
            E.CHANNELS: 3,
            E.SEATS: 10,
            E.CAMPAIGNS: 20,
            E.WEBHOOK_ENDPOINTS: 10,
        },
    },
    {
        "code": "agency",
        "name": "Agency",
        "monthly_price_cents": 39900,
        "price_setting": "STRIPE_PRICE_AGENCY",
        "entitlements": {
            E.LISTINGS: 25000,
            E.AI_REPLIES: 50000,
            E.CHANNELS: 10,
            E.SEATS: 50,
            E.CAMPAIGNS: 100,
            E.WEBHOOK_ENDPOINTS: 50,
        },
    },
]
DEFAULT_PLAN_CODE = "starter"
