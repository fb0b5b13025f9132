import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from marketplace.errors import InvalidUpload
from marketplace.uploads import validate_document, validate_image


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_real_image_is_accepted():
    info = validate_image(SimpleUploadedFile("a.png", _png(40, 30)))
    assert (info.format, info.width, info.height) == ("PNG", 40, 30)


def test_text_named_like_an_image_is_refused():
    with pytest.raises(InvalidUpload, match="not an image"):
        validate_image(SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>"))


def test_sixty_megapixel_image_is_refused_as_too_many_pixels():
    # 7746 x 7746 ~ 60 MP; PNG of one colour compresses to a few hundred KB.
    with pytest.raises(InvalidUpload, match="too many pixels"):
        validate_image(SimpleUploadedFile("big.png", _png(7746, 7746)))


def test_pdf_document_is_accepted_and_text_is_not():
    assert validate_document(SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n...")) == "application/pdf"
    with pytest.raises(InvalidUpload, match="PDF or an image"):
        validate_document(SimpleUploadedFile("licence.pdf", b"hello"))
