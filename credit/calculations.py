"""Pure credit maths: funding breakdown, advance rates, limit methods, utilisation.

Values in, values out — no ORM, no I/O — so every rule here is property-tested. Amounts are
integer yen and every multiplication by a rate goes through ``core.money.apply_rate``
(切り捨て). The reference values of DESIGN §5 come from the source articles and must hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import Yen, apply_rate, to_rate

SCHEMES = ("two_party", "three_party")
GRADES = ("A", "B", "C", "D", "E")
CLIENT_SIZES = ("large", "medium", "small")

# Utilisation thresholds (DESIGN §5): green under 80 %, yellow 80–100 %, red over 100 %.
YELLOW_FROM_PERCENT = 80


# ---------------------------------------------------------------- funding (掛け目の記事)


@dataclass(frozen=True)
class FundingBreakdown:
    """What the client receives for a face value: the figures of DESIGN §5, all integer yen."""

    face_value: Yen
    advance_rate: Decimal
    fee_rate: Decimal
    advance_amount: Yen
    fee: Yen
    other_costs: Yen
    upfront_payment: Yen
    reserve: Yen
    total_to_client: Yen


def funding_breakdown(
    face_value: Yen, advance_rate: Decimal | str, fee_rate: Decimal | str, other_costs: Yen = 0
) -> FundingBreakdown:
    """Return the funding of ``face_value`` bought at ``advance_rate`` with ``fee_rate``.

    advance amount = face × advance rate; fee = advance amount × fee rate; upfront payment =
    advance amount − fee − other costs; reserve = face − advance amount (returned after
    collection); total to client = upfront payment + reserve.
    """
    if isinstance(face_value, bool) or not isinstance(face_value, int) or face_value < 0:
        raise ValueError("face value must be a non-negative integer of yen")
    if isinstance(other_costs, bool) or not isinstance(other_costs, int) or other_costs < 0:
        raise ValueError("other costs must be a non-negative integer of yen")
    advance = to_rate(advance_rate)
    fee_r = to_rate(fee_rate)
    if not Decimal(0) <= advance <= Decimal(1) or not Decimal(0) <= fee_r <= Decimal(1):
        raise ValueError("rates must lie between 0 and 1")
    advance_amount = apply_rate(face_value, advance)
    fee = apply_rate(advance_amount, fee_r)
    upfront = advance_amount - fee - other_costs
    reserve = face_value - advance_amount
    return FundingBreakdown(
        face_value=face_value,
        advance_rate=advance,
        fee_rate=fee_r,
        advance_amount=advance_amount,
        fee=fee,
        other_costs=other_costs,
        upfront_payment=upfront,
        reserve=reserve,
        total_to_client=upfront + reserve,
    )


# ------------------------------------------------------------------ advance-rate policy


@dataclass(frozen=True)
class RatePolicy:
    """One version of the advance-rate table (DESIGN §5), as plain values.

    rate = base[scheme] + registration + debtor rating + client size + earlier deals, capped
    for unregistered two-party deals and clamped into the scheme's band. Each adjustment table
    must not reward a worse factor, which makes the rate monotone in every factor.
    """

    version: int
    bands: Mapping[str, tuple[Decimal, Decimal]]
    base: Mapping[str, Decimal]
    registered_bonus: Decimal
    unregistered_two_party_cap: Decimal
    rating: Mapping[str, Decimal]
    size: Mapping[str, Decimal]
    # (minimum number of earlier deals, bonus) in ascending order; the first tier is 0 deals.
    prior_deal_tiers: tuple[tuple[int, Decimal], ...]

    def problems(self) -> list[str]:
        """Return why this table would break the policy's promises (empty when sound)."""
        found: list[str] = []
        for scheme in SCHEMES:
            low, high = self.bands[scheme]
            if not Decimal(0) < low <= high <= Decimal(1):
                found.append(f"band of {scheme} must satisfy 0 < min ≤ max ≤ 1")
        if self.bands["two_party"][1] > self.bands["three_party"][0]:
            found.append("the two-party band must lie below the three-party band")
        if self.registered_bonus < 0:
            found.append("registration must not lower the rate")
        if any(self.rating[a] < self.rating[b] for a, b in itertools.pairwise(GRADES)):
            found.append("a better debtor rating must not lower the rate")
        if any(self.size[a] < self.size[b] for a, b in itertools.pairwise(CLIENT_SIZES)):
            found.append("a larger client must not lower the rate")
        tiers = self.prior_deal_tiers
        if not tiers or tiers[0][0] != 0:
            found.append("the earlier-deals tiers must start at 0 deals")
        if any(a[0] >= b[0] or a[1] > b[1] for a, b in itertools.pairwise(tiers)):
            found.append("more earlier deals must not lower the rate")
        return found


DEFAULT_POLICY = RatePolicy(
    version=1,
    bands={
        "two_party": (Decimal("0.7000"), Decimal("0.8000")),
        "three_party": (Decimal("0.8000"), Decimal("0.9000")),
    },
    base={"two_party": Decimal("0.7000"), "three_party": Decimal("0.8000")},
    registered_bonus=Decimal("0.0200"),
    unregistered_two_party_cap=Decimal("0.7200"),
    rating={
        "A": Decimal("0.0300"),
        "B": Decimal("0.0200"),
        "C": Decimal("0.0000"),
        "D": Decimal("-0.0500"),
        "E": Decimal("-0.1000"),
    },
    size={"large": Decimal("0.0200"), "medium": Decimal("0.0100"), "small": Decimal("0.0000")},
    prior_deal_tiers=((0, Decimal("0.0000")), (1, Decimal("0.0100")), (3, Decimal("0.0200"))),
)


@dataclass(frozen=True)
class RateFactor:
    """One line of how a rate was reached, for the calculator and the deal record."""

    factor: str
    value: str
    adjustment: Decimal


@dataclass(frozen=True)
class RateExplanation:
    rate: Decimal
    policy_version: int
    factors: tuple[RateFactor, ...]
    band: tuple[Decimal, Decimal]
    capped_by: str = ""  # "", "unregistered_cap", "band_min" or "band_max"


def _validate_factors(scheme: str, debtor_rating: str, client_size: str, prior_deals: int) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}")
    if debtor_rating not in GRADES:
        raise ValueError(f"debtor rating must be one of {GRADES}")
    if client_size not in CLIENT_SIZES:
        raise ValueError(f"client size must be one of {CLIENT_SIZES}")
    if isinstance(prior_deals, bool) or not isinstance(prior_deals, int) or prior_deals < 0:
        raise ValueError("prior deals must be a non-negative integer")


def explain_advance_rate(
    *,
    scheme: str,
    registered: bool,
    debtor_rating: str,
    client_size: str,
    prior_deals: int,
    policy: RatePolicy | None = None,
) -> RateExplanation:
    """Return the advance rate with every factor that set it and any cap that applied."""
    _validate_factors(scheme, debtor_rating, client_size, prior_deals)
    policy = policy or DEFAULT_POLICY
    tier_bonus = Decimal(0)
    tier_min = 0
    for minimum, bonus in policy.prior_deal_tiers:
        if prior_deals >= minimum:
            tier_bonus, tier_min = bonus, minimum
    factors = (
        RateFactor("scheme", scheme, policy.base[scheme]),
        RateFactor("registration", "yes" if registered else "no",
                   policy.registered_bonus if registered else Decimal(0)),
        RateFactor("debtor_rating", debtor_rating, policy.rating[debtor_rating]),
        RateFactor("client_size", client_size, policy.size[client_size]),
        RateFactor("prior_deals", f"{tier_min}+", tier_bonus),
    )  # fmt: skip
    rate = sum((f.adjustment for f in factors), Decimal(0))
    capped_by = ""
    if scheme == "two_party" and not registered and rate > policy.unregistered_two_party_cap:
        rate, capped_by = policy.unregistered_two_party_cap, "unregistered_cap"
    low, high = policy.bands[scheme]
    if rate < low:
        rate, capped_by = low, "band_min"
    elif rate > high:
        rate, capped_by = high, "band_max"
    return RateExplanation(
        rate=to_rate(rate),
        policy_version=policy.version,
        factors=factors,
        band=(low, high),
        capped_by=capped_by,
    )


def advance_rate(
    *,
    scheme: str,
    registered: bool,
    debtor_rating: str,
    client_size: str,
    prior_deals: int,
    policy: RatePolicy | None = None,
) -> Decimal:
    """Return the advance rate (掛け目) for the five factors; the shipped default table unless
    a policy version is passed (services pass the active version from the database)."""
    return explain_advance_rate(
        scheme=scheme,
        registered=registered,
        debtor_rating=debtor_rating,
        client_size=client_size,
        prior_deals=prior_deals,
        policy=policy,
    ).rate


# -------------------------------------------------------------- limits (与信限度額の記事)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def expected_receivable_balance(monthly_sales: Yen, collection_days: int) -> Yen:
    """Return monthly sales × collection days / 30, rounded down (3M at 90 days → 9M)."""
    if not _is_int(monthly_sales) or not _is_int(collection_days):
        raise TypeError("monthly sales and collection days must be integers, never float")
    if monthly_sales < 0 or collection_days < 0:
        raise ValueError("monthly sales and collection days must not be negative")
    return monthly_sales * collection_days // 30


def utilization_status(limit: Yen, exposure: Yen) -> str:
    """Return ``green`` under 80 % of the limit, ``yellow`` from 80 % to 100 %, ``red`` above.

    A zero limit with any exposure is red (nothing may be bought); with none it is green.
    """
    if limit <= 0:
        return "red" if exposure > 0 else "green"
    if exposure * 100 < limit * YELLOW_FROM_PERCENT:
        return "green"
    if exposure <= limit:
        return "yellow"
    return "red"


def utilization_percent(limit: Yen, exposure: Yen) -> Decimal | None:
    """Return exposure ÷ limit in percent with one decimal (None without a limit)."""
    if limit <= 0:
        return None
    return (Decimal(exposure) * 100 / Decimal(limit)).quantize(Decimal("0.1"))


def worst_status(statuses: list[str]) -> str:
    """Return the worst of several traffic lights (red > yellow > green)."""
    for status in ("red", "yellow"):
        if status in statuses:
            return status
    return "green"


# Rating coefficients (DESIGN §5): A 1.0, B 0.7, C small amounts only, D no new business, E stop.
RATING_COEFFICIENT: dict[str, Decimal] = {
    "A": Decimal("1.0000"),
    "B": Decimal("0.7000"),
    "C": Decimal("0.5000"),
    "D": Decimal("0.0000"),
    "E": Decimal("0.0000"),
}


@dataclass(frozen=True)
class LimitParameters:
    """The house parameters of the limit methods; defaults documented in the README."""

    monthly_sales_ratio: Decimal = Decimal("0.1000")  # share of the party's monthly sales
    net_assets_ratio: Decimal = Decimal("0.1000")  # 純資産の10%
    annual_sales_ratio: Decimal = Decimal("0.0100")  # 年商の1%
    small_amount_cap: Yen = 3_000_000  # the most a C-rated party may be granted
    coefficients: Mapping[str, Decimal] = field(default_factory=lambda: dict(RATING_COEFFICIENT))


DEFAULT_LIMIT_PARAMETERS = LimitParameters()


def monthly_sales_method(monthly_sales: Yen, ratio: Decimal | str) -> Yen:
    """Return the limit by the monthly-sales method: the party's monthly sales × ratio."""
    return apply_rate(monthly_sales, ratio)


def receivable_balance_method(monthly_trade: Yen, collection_days: int) -> Yen:
    """Return the limit by the receivable-balance method: the balance the trade builds up."""
    return expected_receivable_balance(monthly_trade, collection_days)


def share_cap(total_exposure: Yen, max_share: Decimal | str) -> Yen:
    """Return the most one party may hold when it may be at most ``max_share`` of the book.

    Solves e ≤ s × (T + e) for the party's own exposure e, with T the rest of the book.
    """
    share = to_rate(max_share)
    if share >= 1:
        raise ValueError("a share cap must be below 100 %")
    # e ≤ s·T / (1 − s), rounded down through the one helper.
    return apply_rate(total_exposure, share) * 10_000 // int((1 - share) * 10_000)


def loss_tolerance_allocation(
    loss_tolerance: Yen, counterparties: int, loss_rate: Decimal | str
) -> Yen:
    """Return the exposure one party may carry so that losing it stays within its share of the
    company's loss tolerance: tolerance ÷ counterparties ÷ loss given default."""
    rate = to_rate(loss_rate)
    if not _is_int(loss_tolerance) or not _is_int(counterparties):
        raise TypeError("the loss tolerance must be integer yen, never float")
    if counterparties <= 0 or rate <= 0:
        raise ValueError("counterparties and loss rate must be positive")
    per_party = loss_tolerance // counterparties
    return int(Decimal(per_party) * 10_000 // (rate * 10_000))


@dataclass(frozen=True)
class RecommendedLimit:
    """A recommended limit and the method that bound it, with every candidate shown."""

    amount: Yen
    bound_by: str
    coefficient: Decimal
    candidates: dict[str, Yen]


def recommended_limit(
    *,
    rating: str,
    monthly_sales: Yen | None = None,
    monthly_trade: Yen | None = None,
    collection_days: int | None = None,
    net_assets: Yen | None = None,
    annual_sales: Yen | None = None,
    total_exposure: Yen | None = None,
    max_share: Decimal | str | None = None,
    loss_allocation: Yen | None = None,
    parameters: LimitParameters = DEFAULT_LIMIT_PARAMETERS,
) -> RecommendedLimit:
    """Return the smallest of the applicable methods times the rating coefficient, then capped
    by the share of total exposure and the loss-tolerance allocation; say which one bound it.

    Methods apply only when their inputs are given; at least one base method is required.
    """
    if rating not in GRADES:
        raise ValueError(f"rating must be one of {GRADES}")
    candidates: dict[str, Yen] = {}
    if monthly_sales is not None:
        candidates["monthly_sales"] = monthly_sales_method(
            monthly_sales, parameters.monthly_sales_ratio
        )
    if monthly_trade is not None and collection_days is not None:
        candidates["receivable_balance"] = receivable_balance_method(monthly_trade, collection_days)
    if net_assets is not None:
        candidates["net_assets"] = apply_rate(max(net_assets, 0), parameters.net_assets_ratio)
    if annual_sales is not None:
        candidates["annual_sales"] = apply_rate(annual_sales, parameters.annual_sales_ratio)
    if not candidates:
        raise ValueError("at least one of the limit methods needs its inputs")
    bound_by = min(candidates, key=lambda name: (candidates[name], name))
    coefficient = parameters.coefficients[rating]
    amount = apply_rate(candidates[bound_by], coefficient)
    if coefficient < 1:
        # The rating is what cut the method's figure down.
        candidates["rating"] = amount
        bound_by = "rating"
    if rating == "C" and amount > parameters.small_amount_cap:
        amount = candidates["rating"] = parameters.small_amount_cap
        bound_by = "rating"
    caps: dict[str, Yen] = {}
    if total_exposure is not None and max_share is not None:
        caps["share_cap"] = share_cap(total_exposure, max_share)
    if loss_allocation is not None:
        caps["loss_tolerance"] = loss_allocation
    for name, cap in caps.items():
        candidates[name] = cap
        if cap < amount:
            amount, bound_by = cap, name
    return RecommendedLimit(
        amount=max(amount, 0), bound_by=bound_by, coefficient=coefficient, candidates=candidates
    )


# ------------------------------------------------------------------- approval authority


def limit_approval_level(amount: Yen, bands: tuple[tuple[Yen | None, int], ...]) -> int:
    """Return the approver level whose authority covers a limit of ``amount``.

    ``bands`` is ascending ``(upper bound or None, level)``; the last band has no bound.
    """
    for upper, level in bands:
        if upper is None or amount <= upper:
            return level
    return bands[-1][1]
