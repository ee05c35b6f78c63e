"""collection.zengin: 全銀協 statement files built field by field, in cp932 bytes, by the
builders of tests/collection/statements.py (they follow the 全銀協 layouts independently of
the parser's own tables, so a shifted field in either shows up as a failing test).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from collection.zengin import (
    StatementError,
    StatementFormat,
    parse_statement,
    parse_wareki_date,
)

from .statements import (
    dw_data,
    dw_end,
    dw_file,
    dw_header,
    dw_section,
    dw_trailer,
    join,
    num,
    tn_data,
    tn_end,
    tn_file,
    tn_header,
    tn_trailer,
)

TODAY = date(2025, 6, 30)


def parse(data: bytes):
    return parse_statement(data, today=TODAY)


def refusal(data: bytes) -> StatementError:
    with pytest.raises(StatementError) as caught:
        parse(data)
    return caught.value


# 入出金取引明細 --------------------------------------------------------------------------


class TestDepositWithdrawalDetails:
    def test_reads_every_entry_with_its_dates_amount_and_direction(self):
        statement = parse(
            dw_file(
                [
                    {"amount": 120_000, "booking": "070602", "value": "070601"},
                    {"amount": 3_300, "direction": "2", "kind": "14", "payer": "1234567890"},
                ]
            )
        )

        assert statement.format is StatementFormat.DEPOSIT_WITHDRAWAL
        first, second = statement.entries
        assert (first.value_date, first.booking_date) == (date(2025, 6, 1), date(2025, 6, 2))
        assert (first.amount, first.direction, first.record_number) == (120_000, "in", 2)
        assert (second.amount, second.direction, second.record_number) == (3_300, "out", 3)
        assert second.transaction_type == "14"

    def test_exposes_the_header_fields_an_importer_needs(self):
        statement = parse(dw_file([{}], closing=1_010_000))

        header = statement.header
        assert header.format is StatementFormat.DEPOSIT_WITHDRAWAL
        assert header.type_code == "03"
        assert (header.bank_code, header.branch_code) == ("0005", "001")
        assert (header.account_type, header.account_number) == ("1", "0001234567")
        assert header.account_name == "カ)テストフアクタリング"
        assert header.created_on == date(2025, 6, 30)
        assert (header.period_start, header.period_end) == (date(2025, 6, 1), date(2025, 6, 30))
        assert header.opening_balance == 1_000_000
        assert statement.sections[0].closing_balance == 1_010_000

    def test_keeps_inquiry_number_transaction_type_description_and_edi_info(self):
        entry = parse(
            dw_file([{"inquiry": 42, "payer_code": 123, "description": "ｿｳｷﾝ", "edi": "INV-0012"}])
        ).entries[0]

        assert entry.inquiry_number == "00000042"
        assert entry.payer_code == "0000000123"
        assert entry.transaction_type == "11"
        assert entry.description == "ソウキン"
        assert entry.edi_info == "INV-0012"
        assert (entry.remitting_bank_name, entry.remitting_branch_name) == ("ミズホ", "シンジユク")
        assert (entry.bank_code, entry.account_number) == ("0005", "0001234567")

    def test_a_blank_value_date_falls_back_to_the_booking_date(self):
        entry = parse(dw_file([{"booking": "070615", "value": None}])).entries[0]

        assert entry.value_date == entry.booking_date == date(2025, 6, 15)

    def test_reads_several_accounts_each_with_its_own_header(self):
        records = [
            *dw_section([{"amount": 1_000}]),
            *dw_section([{"amount": 2_000}, {"amount": 3_000}], header={"account": "0000000009"}),
        ]
        statement = parse(join([*records, dw_end(records=len(records) + 1, accounts=2)]))

        assert [section.header.account_number for section in statement.sections] == [
            "0001234567",
            "0000000009",
        ]
        assert [entry.amount for entry in statement.entries] == [1_000, 2_000, 3_000]
        assert [entry.account_number for entry in statement.entries][-1] == "0000000009"

    def test_refuses_time_deposit_accounts_whose_layout_differs(self):
        records = dw_section([{}], header={"account_type": "6"})
        error = refusal(join([*records, dw_end()]))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (1, "account_type", "unsupported")
        ]


# 振込入金通知 ----------------------------------------------------------------------------


class TestTransferDepositNotice:
    def test_reads_every_transfer_as_a_deposit(self):
        statement = parse(tn_file([{"amount": 50_000}, {"amount": 7_700, "value": "070627"}]))

        assert statement.format is StatementFormat.TRANSFER_NOTICE
        assert [(e.amount, e.direction) for e in statement.entries] == [
            (50_000, "in"),
            (7_700, "in"),
        ]
        assert statement.entries[1].value_date == date(2025, 6, 27)
        assert statement.entries[1].booking_date == date(2025, 6, 30)
        header = statement.header
        assert (header.bank_code, header.branch_code, header.account_number) == (
            "0009",
            "250",
            "7654321",
        )
        assert header.account_type == "2"
        assert header.opening_balance is None

    def test_reads_twelve_digit_amounts_of_format_b(self):
        statement = parse(tn_file([{"wide_amount": 123_456_789_012, "edi": "ABC123"}]))

        entry = statement.entries[0]
        assert entry.amount == 123_456_789_012
        assert entry.edi_info == "ABC123"

    def test_marks_cancellations_and_checks_their_totals(self):
        data = tn_file([{"amount": 50_000}, {"amount": 50_000, "cancelled": "1", "inquiry": 2}])

        entries = parse(data).entries
        assert [entry.cancelled for entry in entries] == [False, True]

        wrong = tn_file([{"amount": 50_000}, {"cancelled": "1"}], cancelled_amount=1)
        assert [(p.record_number, p.field_key) for p in refusal(wrong).problems] == [
            (4, "cancelled_amount")
        ]

    def test_accepts_a_transfer_total_that_leaves_cancellations_out(self):
        data = tn_file(
            [{"amount": 50_000}, {"amount": 20_000, "cancelled": "1"}],
            total_count=1,
            total_amount=50_000,
        )

        assert len(parse(data).entries) == 2


# Line breaks and padding -----------------------------------------------------------------


class TestRecordSeparators:
    @pytest.mark.parametrize("sep", [b"\r\n", b"\n", b""], ids=["crlf", "lf", "none"])
    @pytest.mark.parametrize("build", [dw_file, tn_file], ids=["03", "01"])
    def test_reads_the_same_entries_with_crlf_lf_or_no_line_breaks(self, build, sep):
        data = build([{"amount": 1_000}, {"amount": 2_000, "inquiry": 2}], sep=sep)

        statement = parse(data)

        assert [(e.record_number, e.amount) for e in statement.entries] == [(2, 1_000), (3, 2_000)]
        assert parse(build([{"amount": 1_000}, {"amount": 2_000, "inquiry": 2}])) == statement

    def test_ignores_an_end_of_file_mark_and_blank_padding_after_the_end_record(self):
        data = dw_file([{}], sep=b"") + b" " * 200 + b"\x1a"

        assert len(parse(data).entries) == 1


# Payer names -----------------------------------------------------------------------------


class TestPayerNames:
    @pytest.mark.parametrize(
        ("raw", "folded"),
        [
            ("ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", "カ)ヤマダシヨウジ"),
            ("ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ", "ヤマダシヨウジ(カ"),
            ("ﾕ)ｻﾄｳ ﾃﾞﾝｷ", "ユ)サトウ デンキ"),
            ("ﾊﾟﾝﾄﾞﾗ.ｺｰﾎﾟﾚｰｼﾖﾝ", "パンドラ.コーポレーシヨン"),
        ],
    )
    def test_half_width_kana_becomes_full_width_katakana_with_legal_marks_kept(self, raw, folded):
        entry = parse(dw_file([{"payer": raw}])).entries[0]

        assert entry.payer_name == folded
        assert entry.raw_payer_name == raw

    def test_transfer_notice_payer_names_are_folded_the_same_way(self):
        entry = parse(tn_file([{"payer": "ﾕ)ｻﾄｳｼﾖｳﾃﾝ"}])).entries[0]

        assert (entry.raw_payer_name, entry.payer_name) == ("ﾕ)ｻﾄｳｼﾖｳﾃﾝ", "ユ)サトウシヨウテン")

    def test_full_width_names_fit_because_fields_are_measured_in_bytes(self):
        entry = parse(dw_file([{"payer": "ヤマダ商事"}])).entries[0]

        assert entry.payer_name == entry.raw_payer_name == "ヤマダ商事"


# 和暦 dates ------------------------------------------------------------------------------


class TestEraDates:
    @pytest.mark.parametrize(
        ("wareki", "western"),
        [
            ("070615", date(2025, 6, 15)),  # 令和7年
            ("010501", date(2019, 5, 1)),  # 令和元年, the first day
            ("310430", date(2019, 4, 30)),  # 平成31年, the last day
            ("300331", date(2018, 3, 31)),  # 平成30年: 令和30年 is still decades away
            ("010430", date(1989, 4, 30)),  # 令和元年4月 never existed
            ("640107", date(1989, 1, 7)),  # 昭和64年, the last day
        ],
    )
    def test_wareki_dates_become_western_dates_in_the_right_era(self, wareki, western):
        assert parse_wareki_date(wareki, today=TODAY) == western

    @pytest.mark.parametrize("wareki", ["070230", "071301", "000101", "0706 1", "3105 1"])
    def test_impossible_dates_are_not_dates(self, wareki):
        assert parse_wareki_date(wareki, today=TODAY) is None

    def test_a_later_today_reads_two_digit_years_in_the_newer_era(self):
        assert parse_wareki_date("300101", today=date(2047, 6, 1)) == date(2048, 1, 1)

    def test_entries_either_side_of_the_heisei_reiwa_boundary_keep_their_own_era(self):
        data = join(
            [
                dw_header(created="010510", start="310426", end="010507"),
                dw_data(booking="310430", value="310430", amount=1),
                dw_data(booking="010507", value="010501", amount=2),
                dw_trailer(in_count=2, in_total=3, out_count=0, out_total=0, data_count=2),
                dw_end(),
            ]
        )

        statement = parse(data)

        assert [(e.booking_date, e.value_date) for e in statement.entries] == [
            (date(2019, 4, 30), date(2019, 4, 30)),
            (date(2019, 5, 7), date(2019, 5, 1)),
        ]
        assert statement.header.period_start == date(2019, 4, 26)

    def test_an_impossible_booking_date_is_refused_naming_the_record(self):
        error = refusal(dw_file([{}, {"booking": "070230"}]))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (3, "booking_date", "invalid_date")
        ]


# Refusals --------------------------------------------------------------------------------


class TestRefusals:
    def test_a_trailer_count_mismatch_is_refused_naming_the_record_and_field(self):
        error = refusal(dw_file([{}, {}], in_count=3))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (4, "in_count", "mismatch")
        ]

    def test_a_trailer_total_mismatch_is_refused_naming_the_record_and_field(self):
        error = refusal(dw_file([{"amount": 5, "direction": "2"}], out_total=6))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (3, "out_total", "mismatch")
        ]

    def test_a_transfer_notice_total_mismatch_is_refused(self):
        error = refusal(tn_file([{"amount": 100}], total_amount=99))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (3, "total_amount", "mismatch")
        ]

    def test_a_record_that_is_not_200_bytes_is_refused(self):
        records = dw_section([{}, {}])
        records[1] = records[1][:-1]

        error = refusal(join([*records, dw_end()]))

        assert [(p.record_number, p.code) for p in error.problems] == [(2, "length")]

    def test_a_file_without_line_breaks_must_be_a_whole_number_of_records(self):
        error = refusal(dw_file([{}], sep=b"")[:-7])

        assert [(p.record_number, p.code) for p in error.problems] == [(4, "length")]

    def test_a_record_padded_by_characters_instead_of_bytes_is_refused(self):
        # "ヤマダ" padded to 48 characters is 51 bytes in Shift_JIS.
        line = dw_data(payer="ヤマダ")
        too_long = line.replace(
            "ヤマダ".encode("cp932") + b" " * 42, "ヤマダ".ljust(48).encode("cp932")
        )
        records = dw_section([{}])
        records[1] = too_long

        error = refusal(join([*records, dw_end()]))

        assert [(p.record_number, p.code) for p in error.problems] == [(2, "length")]
        assert "203" in error.problems[0].message

    @pytest.mark.parametrize("type_code", ["21", "91", "04", "AB"])
    def test_an_unknown_format_is_refused(self, type_code):
        error = refusal(join([dw_header(type_code=type_code), dw_end()]))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (1, "type_code", "unsupported")
        ]

    def test_an_ebcdic_file_is_refused(self):
        error = refusal(join([dw_header(code_type="1"), dw_end()]))

        assert [p.code for p in error.problems] == ["unsupported"]

    def test_a_non_numeric_amount_is_refused_with_its_record_number(self):
        error = refusal(dw_file([{}, {"amount": "0000001234AB"}]))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (3, "amount", "not_numeric")
        ]

    def test_problems_read_as_record_field_and_reason(self):
        with translation.override("en"):
            error = refusal(dw_file([{}, {"amount": "00000012345X"}]))

            assert str(error.problems[0]) == "Row 3, transaction amount: Not a number."
            assert str(error) == "Row 3, transaction amount: Not a number."
        row_error = error.problems[0].as_row_error()
        assert (row_error.row, row_error.column) == (3, str(error.problems[0].field))

    def test_every_problem_in_the_file_is_listed_and_nothing_is_returned(self):
        error = refusal(dw_file([{"amount": "ABCDEFGHIJKL"}, {"direction": "3"}, {}]))

        assert isinstance(error, ValueError)
        assert [(p.record_number, p.field_key) for p in error.problems] == [
            (2, "amount"),
            (3, "direction"),
        ]

    def test_a_file_without_an_end_record_is_refused(self):
        error = refusal(join(dw_section([{}])))

        assert [p.code for p in error.problems] == ["sequence"]

    def test_a_data_record_after_the_trailer_is_refused(self):
        records = dw_section([{}])
        error = refusal(join([*records, dw_data(), dw_end()]))

        assert [(p.record_number, p.code) for p in error.problems] == [(4, "sequence")]

    def test_a_file_that_does_not_start_with_a_header_is_refused(self):
        error = refusal(join([dw_data(), dw_end()]))

        assert [(p.record_number, p.field_key) for p in error.problems] == [(1, "record_type")]

    def test_a_missing_trailer_is_reported_once_at_the_next_header(self):
        first, data, _trailer = dw_section([{}])
        second = dw_section([{}], header={"account": "0000000009"})

        error = refusal(join([first, data, *second, dw_end()]))

        assert [(p.record_number, p.field_key, p.code) for p in error.problems] == [
            (3, "record_type", "sequence")
        ]

    def test_an_unknown_record_type_is_refused(self):
        error = refusal(join([*dw_section([{}]), b"5" + b" " * 199, dw_end()]))

        assert [(p.record_number, p.code) for p in error.problems] == [(4, "unknown_value")]

    def test_end_record_counts_that_disagree_with_the_file_are_refused(self):
        error = refusal(join([*dw_section([{}]), dw_end(records=9, accounts=2)]))

        assert [(p.record_number, p.field_key) for p in error.problems] == [
            (4, "record_count"),
            (4, "account_count"),
        ]

    def test_a_format_b_record_with_both_amounts_filled_in_is_refused(self):
        both = tn_data(wide_amount=5)
        both = both[:19] + num(7, 10) + both[29:]
        data = join([tn_header(), both, tn_trailer(total_count=1, total_amount=5), tn_end()])

        assert [(p.record_number, p.code) for p in refusal(data).problems] == [(2, "conflict")]

    def test_a_file_with_no_200_byte_record_is_refused_in_one_sentence(self):
        error = refusal("日付,金額,振込依頼人\r\n2025/06/30,1000,ﾔﾏﾀﾞ\r\n".encode("cp932"))

        assert [(p.record_number, p.code) for p in error.problems] == [(0, "length")]

    def test_a_long_list_of_problems_is_cut_short_with_a_count(self):
        error = refusal(dw_file([{"amount": "X" * 12}] * 60))

        assert len(error.problems) == 51
        assert error.problems[-1].code == "more"
        assert "10" in error.problems[-1].message

    @pytest.mark.parametrize("data", [b"", b"\r\n", b"   \x1a"])
    def test_an_empty_file_is_refused(self, data):
        assert [p.code for p in refusal(data).problems] == ["empty"]

    def test_a_file_converted_to_utf8_is_refused_with_a_hint(self):
        data = dw_file([{}]).decode("cp932").encode("utf-8")

        error = refusal(data)

        assert error.problems[0].record_number == 0
        assert error.problems[0].code == "encoding"


# Fingerprints ----------------------------------------------------------------------------


class TestFingerprints:
    def test_fingerprints_are_stable_across_reads_and_line_breaks(self):
        entries = [{"amount": 1_000}, {"amount": 2_000, "inquiry": 2}]

        first = [e.fingerprint for e in parse(dw_file(entries)).entries]
        again = [e.fingerprint for e in parse(dw_file(entries, sep=b"")).entries]

        assert first == again
        assert all(len(fingerprint) == 64 for fingerprint in first)

    def test_different_entries_have_different_fingerprints(self):
        entries = parse(
            dw_file(
                [
                    {"amount": 1_000},
                    {"amount": 1_001},
                    {"amount": 1_000, "booking": "070611", "value": "070611"},
                    {"amount": 1_000, "payer": "ｶ)ﾀﾅｶ"},
                    {"amount": 1_000, "direction": "2"},
                ]
            )
        ).entries

        assert len({entry.fingerprint for entry in entries}) == 5

    def test_identical_twin_entries_get_distinct_fingerprints(self):
        entries = parse(tn_file([{"inquiry": None}, {"inquiry": None}])).entries

        assert entries[0].fingerprint != entries[1].fingerprint

    def test_an_entry_keeps_its_fingerprint_in_a_file_with_an_overlapping_period(self):
        june_10 = {"amount": 1_000, "booking": "070610", "value": "070610", "inquiry": 7}
        earlier = {"amount": 9_000, "booking": "070605", "value": "070605", "inquiry": 3}

        alone = parse(dw_file([june_10])).entries[0]
        later = parse(dw_file([earlier, june_10])).entries[1]

        assert alone.record_number != later.record_number
        assert alone.fingerprint == later.fingerprint

    def test_the_same_money_in_another_account_has_another_fingerprint(self):
        first = dw_section([{}])
        second = dw_section([{}], header={"account": "0000000009"})
        statement = parse(join([*first, *second, dw_end()]))

        assert statement.entries[0].fingerprint != statement.entries[1].fingerprint


# Properties ------------------------------------------------------------------------------


@given(amount=st.integers(min_value=0, max_value=9_999_999_999))
def test_any_amount_up_to_ten_digits_round_trips_through_both_formats(amount):
    assert parse(dw_file([{"amount": amount}])).entries[0].amount == amount
    assert parse(tn_file([{"amount": amount}])).entries[0].amount == amount
