"""The pure credit maths: DESIGN §5 reference values, then properties over every input."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credit.calculations import (
    CLIENT_SIZES,
    DEFAULT_LIMIT_PARAMETERS,
    DEFAULT_POLICY,
    GRADES,
    SCHEMES,
    RatePolicy,
    advance_rate,
    expected_receivable_balance,
    explain_advance_rate,
    funding_breakdown,
    limit_approval_level,
    loss_tolerance_allocation,
    recommended_limit,
    share_cap,
    utilization_percent,
    utilization_status,
    worst_status,
)

PROPERTY = settings(max_examples=200, deadline=None)

yen = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 10_000)
# From best to worst, so a lower index is the better factor.
BETTER_FIRST_GRADES = GRADES
LARGER_FIRST_SIZES = CLIENT_SIZES
factors = st.fixed_dictionaries(
    {
        "scheme": st.sampled_from(SCHEMES),
        "registered": st.booleans(),
        "debtor_rating": st.sampled_from(GRADES),
        "client_size": st.sampled_from(CLIENT_SIZES),
        "prior_deals": st.integers(min_value=0, max_value=50),
    }
)


def adjustment(low: int = -1000, high: int = 1000):
    return st.integers(min_value=low, max_value=high).map(lambda n: Decimal(n) / 10_000)


@st.composite
def sound_policies(draw) -> RatePolicy:
    """Draw any rate table that ``problems()`` accepts (it must keep every promise)."""
    two_low = draw(st.integers(min_value=1, max_value=8000))
    two_high = draw(st.integers(min_value=two_low, max_value=8000))
    three_low = draw(st.integers(min_value=two_high, max_value=10_000))
    three_high = draw(st.integers(min_value=three_low, max_value=10_000))
    grade_steps = sorted(draw(st.lists(adjustment(), min_size=5, max_size=5)), reverse=True)
    size_steps = sorted(draw(st.lists(adjustment(), min_size=3, max_size=3)), reverse=True)
    repeat_from = draw(st.integers(min_value=1, max_value=5))
    regular_from = draw(st.integers(min_value=repeat_from + 1, max_value=10))
    repeat_bonus = draw(adjustment(0, 500))
    regular_bonus = draw(adjustment(int(repeat_bonus * 10_000), 1000))
    policy = RatePolicy(
        version=2,
        bands={
            "two_party": (Decimal(two_low) / 10_000, Decimal(two_high) / 10_000),
            "three_party": (Decimal(three_low) / 10_000, Decimal(three_high) / 10_000),
        },
        base={"two_party": draw(adjustment(0, 10_000)), "three_party": draw(adjustment(0, 10_000))},
        registered_bonus=draw(adjustment(0, 1000)),
        unregistered_two_party_cap=draw(adjustment(0, 10_000)),
        rating=dict(zip(GRADES, grade_steps, strict=True)),
        size=dict(zip(CLIENT_SIZES, size_steps, strict=True)),
        prior_deal_tiers=(
            (0, Decimal(0)),
            (repeat_from, repeat_bonus),
            (regular_from, regular_bonus),
        ),
    )
    assert policy.problems() == []
    return policy


class TestFundingBreakdown:
    def test_gives_the_reference_values_at_seventy_percent_and_ten_percent_fee(self):
        result = funding_breakdown(10_000_000, Decimal("0.70"), Decimal("0.10"))
        assert result.advance_amount == 7_000_000
        assert result.fee == 700_000
        assert result.upfront_payment == 6_300_000
        assert result.reserve == 3_000_000
        assert result.total_to_client == 9_300_000

    def test_gives_the_reference_values_at_eighty_percent_and_ten_percent_fee(self):
        result = funding_breakdown(10_000_000, Decimal("0.80"), Decimal("0.10"))
        assert (result.advance_amount, result.fee, result.upfront_payment, result.reserve) == (
            8_000_000,
            800_000,
            7_200_000,
            2_000_000,
        )
        assert result.total_to_client == 9_200_000

    def test_deducts_other_costs_from_the_upfront_payment(self):
        result = funding_breakdown(10_000_000, Decimal("0.70"), Decimal("0.10"), other_costs=7_500)
        assert result.other_costs == 7_500
        assert result.upfront_payment == 6_300_000 - 7_500
        assert result.reserve == 3_000_000
        assert result.total_to_client == 9_300_000 - 7_500

    def test_stores_the_rates_with_four_places(self):
        result = funding_breakdown(10_000_000, "0.7", "0.1")
        assert result.advance_rate == Decimal("0.7000")
        assert str(result.fee_rate) == "0.1000"

    def test_rounds_each_product_down_to_the_yen(self):
        result = funding_breakdown(1_000_001, Decimal("0.7000"), Decimal("0.1000"))
        assert result.advance_amount == 700_000  # 700,000.7 rounded down
        assert result.fee == 70_000
        assert result.reserve == 300_001

    @pytest.mark.parametrize(
        "arguments",
        [
            (10_000_000, 0.7, Decimal("0.10")),
            (10_000_000, Decimal("0.70"), 0.1),
            (10_000_000.0, Decimal("0.70"), Decimal("0.10")),
            (10_000_000, Decimal("0.70"), Decimal("0.10"), 7_500.0),
        ],
    )
    def test_refuses_floats(self, arguments):
        with pytest.raises((TypeError, ValueError)):
            funding_breakdown(*arguments)

    @pytest.mark.parametrize(
        "arguments",
        [
            (-1, Decimal("0.70"), Decimal("0.10")),
            (10_000_000, Decimal("1.10"), Decimal("0.10")),
            (10_000_000, Decimal("0.70"), Decimal("-0.10")),
            (10_000_000, Decimal("0.70"), Decimal("0.10"), -1),
            (True, Decimal("0.70"), Decimal("0.10")),
        ],
    )
    def test_refuses_negative_amounts_and_rates_outside_zero_to_one(self, arguments):
        with pytest.raises(ValueError):
            funding_breakdown(*arguments)

    @PROPERTY
    @given(face=yen, advance=rates, fee=rates, other=st.integers(min_value=0, max_value=10**8))
    def test_always_pays_face_less_fee_and_costs_in_integer_yen(self, face, advance, fee, other):
        result = funding_breakdown(face, advance, fee, other_costs=other)
        assert result.total_to_client == face - result.fee - other
        assert result.advance_amount + result.reserve == face
        assert result.upfront_payment == result.advance_amount - result.fee - other
        assert 0 <= result.advance_amount <= face
        assert 0 <= result.fee <= result.advance_amount
        for value in (
            result.advance_amount,
            result.fee,
            result.upfront_payment,
            result.reserve,
            result.total_to_client,
        ):
            assert type(value) is int


class TestAdvanceRate:
    def test_keeps_three_party_deals_between_eighty_and_ninety_percent_by_default(self):
        for rating in GRADES:
            for size in CLIENT_SIZES:
                for prior in (0, 1, 3, 10):
                    rate = advance_rate(
                        scheme="three_party", registered=True, debtor_rating=rating,
                        client_size=size, prior_deals=prior,
                    )  # fmt: skip
                    assert Decimal("0.80") <= rate <= Decimal("0.90")

    def test_keeps_two_party_deals_between_seventy_and_eighty_percent_by_default(self):
        for registered in (True, False):
            for rating in GRADES:
                for size in CLIENT_SIZES:
                    rate = advance_rate(
                        scheme="two_party", registered=registered, debtor_rating=rating,
                        client_size=size, prior_deals=5,
                    )  # fmt: skip
                    assert Decimal("0.70") <= rate <= Decimal("0.80")

    def test_keeps_unregistered_two_party_deals_near_seventy_percent(self):
        best = explain_advance_rate(
            scheme="two_party", registered=False, debtor_rating="A", client_size="large",
            prior_deals=10,
        )  # fmt: skip
        assert best.rate == Decimal("0.7200")
        assert best.capped_by == "unregistered_cap"

    def test_gives_a_first_deal_a_lower_rate_than_a_repeat_one(self):
        common = {"registered": True, "debtor_rating": "C", "client_size": "small"}
        first = advance_rate(scheme="three_party", prior_deals=0, **common)
        repeat = advance_rate(scheme="three_party", prior_deals=1, **common)
        regular = advance_rate(scheme="three_party", prior_deals=3, **common)
        assert first == Decimal("0.8200")
        assert first < repeat < regular

    def test_explains_each_factor_and_the_policy_version(self):
        explanation = explain_advance_rate(
            scheme="three_party", registered=True, debtor_rating="B", client_size="medium",
            prior_deals=4,
        )  # fmt: skip
        assert explanation.rate == Decimal("0.8700")  # 0.80 + 0.02 + 0.02 + 0.01 + 0.02
        assert explanation.policy_version == DEFAULT_POLICY.version
        assert [f.factor for f in explanation.factors] == [
            "scheme", "registration", "debtor_rating", "client_size", "prior_deals",
        ]  # fmt: skip
        assert explanation.factors[-1].value == "3+"
        assert explanation.capped_by == ""

    def test_lifts_a_sum_under_the_band_to_its_bottom(self):
        explanation = explain_advance_rate(
            scheme="three_party", registered=False, debtor_rating="E", client_size="small",
            prior_deals=0,
        )  # fmt: skip
        assert explanation.rate == Decimal("0.8000")  # 0.80 − 0.10 = 0.70, lifted
        assert explanation.capped_by == "band_min"

    def test_clamps_a_sum_over_the_band_to_its_top(self):
        generous = replace(DEFAULT_POLICY, registered_bonus=Decimal("0.0800"))
        explanation = explain_advance_rate(
            scheme="three_party", registered=True, debtor_rating="A", client_size="large",
            prior_deals=3, policy=generous,
        )  # fmt: skip
        assert explanation.rate == Decimal("0.9000")
        assert explanation.capped_by == "band_max"

    @pytest.mark.parametrize(
        "override",
        [
            {"scheme": "four_party"},
            {"debtor_rating": "F"},
            {"client_size": "huge"},
            {"prior_deals": -1},
            {"prior_deals": 1.0},
        ],
    )
    def test_refuses_unknown_factor_values(self, override):
        arguments = {
            "scheme": "two_party",
            "registered": True,
            "debtor_rating": "A",
            "client_size": "large",
            "prior_deals": 0,
        }
        with pytest.raises(ValueError):
            advance_rate(**(arguments | override))

    @PROPERTY
    @given(factors=factors)
    def test_stays_inside_the_scheme_band_for_every_combination(self, factors):
        low, high = DEFAULT_POLICY.bands[factors["scheme"]]
        rate = advance_rate(**factors)
        assert low <= rate <= high
        assert rate == rate.quantize(Decimal("0.0001"))
        if factors["scheme"] == "two_party" and not factors["registered"]:
            assert rate <= Decimal("0.72")

    @PROPERTY
    @given(factors=factors, policy=st.one_of(st.just(DEFAULT_POLICY), sound_policies()))
    def test_never_drops_when_any_single_factor_improves(self, factors, policy):
        rate = advance_rate(**factors, policy=policy)
        low, high = policy.bands[factors["scheme"]]
        assert low <= rate <= high
        improved = []
        grade = BETTER_FIRST_GRADES.index(factors["debtor_rating"])
        if grade > 0:
            improved.append({"debtor_rating": BETTER_FIRST_GRADES[grade - 1]})
        size = LARGER_FIRST_SIZES.index(factors["client_size"])
        if size > 0:
            improved.append({"client_size": LARGER_FIRST_SIZES[size - 1]})
        if not factors["registered"]:
            improved.append({"registered": True})
        if factors["scheme"] == "two_party":
            improved.append({"scheme": "three_party"})
        improved.append({"prior_deals": factors["prior_deals"] + 1})
        for change in improved:
            assert advance_rate(**(factors | change), policy=policy) >= rate, change


class TestRatePolicy:
    def test_finds_no_problem_in_the_shipped_default_table(self):
        assert DEFAULT_POLICY.problems() == []

    def test_finds_a_table_that_rewards_a_worse_rating(self):
        rating = dict(DEFAULT_POLICY.rating, A=Decimal("0.0100"))  # A below B (0.02)
        problems = replace(DEFAULT_POLICY, rating=rating).problems()
        assert problems
        assert any("rating" in problem for problem in problems)

    @pytest.mark.parametrize(
        "change",
        [
            {"size": {"large": Decimal("0"), "medium": Decimal("0.01"), "small": Decimal("0")}},
            {"registered_bonus": Decimal("-0.0100")},
            {"prior_deal_tiers": ((0, Decimal("0")), (1, Decimal("0.02")), (3, Decimal("0.01")))},
            {"prior_deal_tiers": ((1, Decimal("0.01")),)},
            {
                "bands": {
                    "two_party": (Decimal("0.70"), Decimal("0.85")),
                    "three_party": (Decimal("0.80"), Decimal("0.90")),
                }
            },
            {
                "bands": {
                    "two_party": (Decimal("0.70"), Decimal("0.80")),
                    "three_party": (Decimal("0.90"), Decimal("0.85")),
                }
            },
        ],
    )
    def test_finds_every_other_broken_promise(self, change):
        assert replace(DEFAULT_POLICY, **change).problems()


class TestExpectedReceivableBalance:
    def test_is_one_month_of_sales_at_thirty_days(self):
        assert expected_receivable_balance(3_000_000, 30) == 3_000_000

    def test_is_three_months_of_sales_at_ninety_days(self):
        assert expected_receivable_balance(3_000_000, 90) == 9_000_000

    def test_rounds_down_to_the_yen(self):
        assert expected_receivable_balance(1_000_000, 45) == 1_500_000
        assert expected_receivable_balance(100, 1) == 3  # 3.33… rounded down

    def test_refuses_negative_inputs(self):
        with pytest.raises(ValueError):
            expected_receivable_balance(-1, 30)
        with pytest.raises(ValueError):
            expected_receivable_balance(3_000_000, -1)

    def test_refuses_float_sales(self):
        with pytest.raises((TypeError, ValueError)):
            expected_receivable_balance(3_000_000.0, 30)


class TestUtilizationStatus:
    @pytest.mark.parametrize(
        ("exposure", "status"),
        [
            (0, "green"),
            (7_999_000, "green"),  # 79.99 %
            (7_999_999, "green"),
            (8_000_000, "yellow"),  # exactly 80 %
            (10_000_000, "yellow"),  # exactly 100 %
            (10_000_001, "red"),  # 100 % and one yen
        ],
    )
    def test_follows_the_thresholds_of_the_design(self, exposure, status):
        assert utilization_status(10_000_000, exposure) == status

    def test_treats_any_exposure_under_a_zero_limit_as_red(self):
        assert utilization_status(0, 1) == "red"
        assert utilization_status(0, 0) == "green"

    def test_reports_the_percentage_with_one_decimal(self):
        assert utilization_percent(10_000_000, 7_999_000) == Decimal("80.0")
        assert utilization_percent(3, 1) == Decimal("33.3")
        assert utilization_percent(0, 5) is None

    def test_picks_the_worst_of_several_lights(self):
        assert worst_status(["green", "yellow", "green"]) == "yellow"
        assert worst_status(["yellow", "red"]) == "red"
        assert worst_status([]) == "green"

    @PROPERTY
    @given(limit=st.integers(min_value=1, max_value=10**12), exposure=yen)
    def test_never_shows_red_within_the_limit_or_green_from_eighty_percent(self, limit, exposure):
        status = utilization_status(limit, exposure)
        assert (status == "red") == (exposure > limit)
        assert (status == "green") == (exposure * 10 < limit * 8)


class TestShareCap:
    def test_lets_a_party_hold_its_share_of_the_book_including_itself(self):
        # Rest of the book 90M, at most 10 %: 10M is 10 % of 100M.
        assert share_cap(90_000_000, Decimal("0.1000")) == 10_000_000

    def test_refuses_a_share_of_the_whole_book_and_floats(self):
        with pytest.raises(ValueError):
            share_cap(1_000_000, Decimal("1"))
        with pytest.raises(TypeError):
            share_cap(1_000_000, 0.1)

    @PROPERTY
    @given(
        rest=yen, share=st.integers(min_value=1, max_value=9999).map(lambda n: Decimal(n) / 10_000)
    )
    def test_never_lets_a_party_at_the_cap_exceed_its_share(self, rest, share):
        cap = share_cap(rest, share)
        assert type(cap) is int
        assert cap >= 0
        assert cap <= share * (rest + cap)


class TestLossToleranceAllocation:
    def test_divides_the_tolerance_by_parties_and_loss_given_default(self):
        # 100M tolerance over 50 parties = 2M each; at 40 % loss a party may carry 5M.
        assert loss_tolerance_allocation(100_000_000, 50, Decimal("0.4000")) == 5_000_000

    def test_refuses_no_parties_a_zero_loss_rate_and_floats(self):
        with pytest.raises(ValueError):
            loss_tolerance_allocation(100_000_000, 0, Decimal("0.4"))
        with pytest.raises(ValueError):
            loss_tolerance_allocation(100_000_000, 50, Decimal("0"))
        with pytest.raises((TypeError, ValueError)):
            loss_tolerance_allocation(100_000_000.0, 50, Decimal("0.4"))


class TestRecommendedLimit:
    def test_takes_the_smallest_method_for_an_a_rating_and_names_it(self):
        result = recommended_limit(
            rating="A",
            monthly_sales=200_000_000,  # 10 % → 20M
            monthly_trade=3_000_000,
            collection_days=90,  # 9M
            net_assets=150_000_000,  # 10 % → 15M
            annual_sales=2_400_000_000,  # 1 % → 24M
        )
        assert result.amount == 9_000_000
        assert result.bound_by == "receivable_balance"
        assert result.coefficient == Decimal("1.0000")
        assert result.candidates["monthly_sales"] == 20_000_000
        assert result.candidates["net_assets"] == 15_000_000
        assert result.candidates["annual_sales"] == 24_000_000

    def test_applies_seventy_percent_for_a_b_rating(self):
        result = recommended_limit(rating="B", monthly_trade=3_000_000, collection_days=90)
        assert result.amount == 6_300_000
        assert result.bound_by == "rating"

    def test_grants_a_c_rating_small_amounts_only(self):
        result = recommended_limit(rating="C", monthly_trade=10_000_000, collection_days=60)
        assert result.amount == DEFAULT_LIMIT_PARAMETERS.small_amount_cap
        assert result.bound_by == "rating"

    @pytest.mark.parametrize("rating", ["D", "E"])
    def test_grants_nothing_new_to_d_and_e(self, rating):
        result = recommended_limit(rating=rating, monthly_sales=500_000_000, net_assets=10**9)
        assert result.amount == 0
        assert result.bound_by == "rating"

    def test_caps_by_the_loss_tolerance_allocation(self):
        result = recommended_limit(
            rating="A", monthly_trade=3_000_000, collection_days=90, loss_allocation=5_000_000
        )
        assert (result.amount, result.bound_by) == (5_000_000, "loss_tolerance")

    def test_caps_by_the_share_of_total_exposure(self):
        result = recommended_limit(
            rating="A",
            monthly_trade=3_000_000,
            collection_days=90,
            total_exposure=45_000_000,
            max_share=Decimal("0.1000"),
        )
        assert (result.amount, result.bound_by) == (5_000_000, "share_cap")

    def test_needs_at_least_one_method_and_a_known_rating(self):
        with pytest.raises(ValueError):
            recommended_limit(rating="A")
        with pytest.raises(ValueError):
            recommended_limit(rating="Z", monthly_sales=1_000_000)

    def test_refuses_float_amounts(self):
        with pytest.raises((TypeError, ValueError)):
            recommended_limit(rating="A", monthly_sales=1_000_000.0)
        with pytest.raises((TypeError, ValueError)):
            recommended_limit(rating="A", monthly_trade=1_000_000.0, collection_days=30)

    @PROPERTY
    @given(
        rating=st.sampled_from(GRADES),
        monthly_sales=st.none() | yen,
        monthly_trade=st.none() | yen,
        collection_days=st.integers(min_value=0, max_value=180),
        net_assets=st.none() | st.integers(min_value=-(10**10), max_value=10**12),
        annual_sales=st.none() | yen,
        total_exposure=st.none() | yen,
        max_share=st.none() | st.integers(1, 9999).map(lambda n: Decimal(n) / 10_000),
        loss_allocation=st.none() | yen,
    )
    def test_respects_every_cap_and_names_what_bound_it(
        self, rating, monthly_sales, monthly_trade, collection_days, net_assets, annual_sales,
        total_exposure, max_share, loss_allocation,
    ):  # fmt: skip
        base_inputs = {
            "monthly_sales": monthly_sales,
            "monthly_trade": monthly_trade,
            "net_assets": net_assets,
            "annual_sales": annual_sales,
        }
        if all(value is None for value in base_inputs.values()):
            base_inputs["monthly_sales"] = 0
        result = recommended_limit(
            rating=rating,
            collection_days=collection_days,
            total_exposure=total_exposure,
            max_share=max_share,
            loss_allocation=loss_allocation,
            **base_inputs,
        )
        assert type(result.amount) is int
        assert result.amount >= 0
        assert result.candidates[result.bound_by] == result.amount
        methods = ("monthly_sales", "receivable_balance", "net_assets", "annual_sales")
        smallest = min(result.candidates[m] for m in methods if m in result.candidates)
        coefficient = DEFAULT_LIMIT_PARAMETERS.coefficients[rating]
        assert result.coefficient == coefficient
        from_methods = int(smallest * coefficient)  # both non-negative: int() rounds down
        if rating == "C":
            from_methods = min(from_methods, DEFAULT_LIMIT_PARAMETERS.small_amount_cap)
            assert result.amount <= DEFAULT_LIMIT_PARAMETERS.small_amount_cap
        if rating in ("D", "E"):
            assert result.amount == 0
        caps = []
        if loss_allocation is not None:
            assert result.amount <= loss_allocation
            caps.append(loss_allocation)
        if total_exposure is not None and max_share is not None:
            assert result.amount <= share_cap(total_exposure, max_share)
            caps.append(share_cap(total_exposure, max_share))
        assert result.amount == min([from_methods, *caps])
        if all(cap >= from_methods for cap in caps):
            # No cap binds: a method (or the rating cutting it down) bound the amount.
            assert result.amount == from_methods
            assert result.bound_by in (*methods, "rating")
            if coefficient == 1:
                assert result.bound_by in methods


class TestLimitApprovalLevel:
    BANDS = ((10_000_000, 1), (50_000_000, 2), (None, 3))

    @pytest.mark.parametrize(
        ("amount", "level"),
        [(0, 1), (10_000_000, 1), (10_000_001, 2), (50_000_000, 2), (50_000_001, 3)],
    )
    def test_maps_the_amount_to_the_authority_band(self, amount, level):
        assert limit_approval_level(amount, self.BANDS) == level
