"""Files and form data for the shop-application stories."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

# Real-format numbers: a unified social credit code and an ID card number with valid check characters.
CREDIT_CODE = "91350100M000100Y43"
ID_CARD = "11010519491231002X"


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return buffer.getvalue()


def pdf_file(name: str = "licence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n", content_type="application/pdf")


def png_file(name: str = "id-card.png", width: int = 40, height: int = 30) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(width, height), content_type="image/png")


def application_form(**overrides) -> dict:
    data = {
        "shop_name": "Bamboo Crafts 竹艺",
        "slug": "bamboo-crafts",
        "legal_kind": "business",
        "shop_type": "brand",
        "contact_name": "Wang Fang",
        "contact_email": "wang.fang@example.com",
        "contact_phone": "+86 138 0000 0000",
        "licence_number": CREDIT_CODE,
        "description": "Hand-made bamboo baskets from Anji.",
        "documents": [pdf_file()],
    }
    data.update(overrides)
    return data


def media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
