from tepat.core.masking import mask_account, mask_name, mask_nik, mask_phone
from tepat.core.money import format_rupiah


def test_nik_mask_keeps_region_and_last_two_digits():
    assert mask_nik("3273010101900001") == "3273**********01"


def test_phone_mask_hides_the_middle():
    assert mask_phone("081234567890") == "0812******90"


def test_account_mask_keeps_last_four():
    assert mask_account("1234567890") == "******7890"


def test_name_mask_keeps_two_letters_of_each_word():
    assert mask_name("Siti Nurhaliza") == "Si** Nu*******"
    assert mask_name("Ani") == "A**"


def test_rupiah_uses_dot_thousands():
    assert format_rupiah(1500000) == "Rp1.500.000"
