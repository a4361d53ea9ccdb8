"""ASM XML scalars (api/asm/xml_out.py): what XML 1.0 cannot carry is replaced, everything else kept as it is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from classic2arm.api.asm import xml_out


@given(st.text())
def test_any_text_becomes_a_parseable_element_that_keeps_what_xml_can_carry(value: str) -> None:
    parent = xml_out.root("Deployment")
    xml_out.add(parent, "Label", value)
    back = etree.fromstring(xml_out.to_bytes(parent))
    (child,) = back
    assert child.tag == f"{{{xml_out.NS}}}Label"
    assert (child.text or "") == xml_out._NOT_XML.sub("\ufffd", value)


def test_controls_surrogates_and_noncharacters_are_replaced_and_tabs_and_newlines_kept() -> None:
    assert xml_out.text_of("a\x00b\x1fc\ud800d\uffffe") == "a\ufffdb\ufffdc\ufffdd\ufffde"
    assert xml_out.text_of("tab\there\nnew\rline") == "tab\there\nnew\rline"
    assert xml_out.text_of("Grüße, 東京 🚀") == "Grüße, 東京 🚀"
