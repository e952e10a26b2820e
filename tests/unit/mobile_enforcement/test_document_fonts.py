"""The documents are printed only in the CJK faces they name: without them fontconfig would fall back
to a face with no Chinese glyphs and every document would be empty boxes."""

import pytest

from services.common.errors import FailedPrecondition
from services.mobile_enforcement.documents.render import FACES, matched_family, require_faces


def test_the_faces_the_stylesheet_names_are_installed_here():
    assert [matched_family(face) for face in FACES] == list(FACES)
    require_faces()


def test_a_missing_face_refuses_to_print_naming_it_and_the_package():
    assert matched_family("No Such Face 无此字体") != "No Such Face 无此字体"
    with pytest.raises(FailedPrecondition) as refused:
        require_faces(("Noto Serif CJK SC", "No Such Face 无此字体"))
    assert "No Such Face 无此字体" in str(refused.value) and "fonts-noto-cjk" in str(refused.value)
    assert "Noto Serif CJK SC" not in str(refused.value).split("：")[1].split("（")[0]
