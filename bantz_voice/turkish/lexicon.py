"""Word lists of the fast path, all in ASCII-folded form (see ``text.ascii_fold``)."""

from __future__ import annotations

WAKE_WORDS = ("bantz", "bants", "banz", "bans", "bandz", "banc", "bantzcim", "bantzcigim")
LEAD_NOISE = ("hey", "hei", "ey", "alo", "merhaba")  # dropped only right before a wake word
FILLERS = {"sey", "ee", "eee", "eeh", "ehm", "hmm", "hm", "mm", "lutfen", "acaba", "yani", "iste", "aa", "oo", "ya", "bakalim", "rica", "ederim"}  # fmt: skip

# verb stems -> the suffixes that keep them verbs (imperative, polite, question, infinitive)
VERB_SUFFIXES = {
    "", "r", "rmisin", "rmisiniz", "rmi", "yin", "yiniz", "in", "iniz", "sene", "sana", "sen",
    "yebilir", "yebilirmisin", "yabilir", "yabilirmisin", "ebilir", "abilir", "ebilirmisin",
    "abilirmisin", "yebilirsin", "yabilirsin", "ebilirsin", "abilirsin", "mek", "mak", "meni",
    "mani", "mesini", "masini", "yelim", "yalim", "elim", "alim", "ir", "ar", "er", "ur", "ver",
    "iver", "yiver", "yecegim", "yacagim", "ecegim", "acagim", "yeceksin", "yacaksin",
    "mem", "mam", "meliyim", "maliyim", "sin", "sinler", "yebilirmisiniz",
    "yabilirmisiniz", "ebilirmisiniz", "abilirmisiniz", "yin", "un", "unuz", "iniz", "mis", "mistim",
    "ivermisin", "iverir", "iverirmisin", "verir", "verirmisin", "ler", "lar", "mesi", "masi",
    "mesine", "masina", "yelimmi", "yalimmi", "ecek", "acak", "yecek", "yacak", "iyorum", "uyorum",
    "yorum", "iyoruz", "uyoruz", "yoruz", "mekistiyorum", "makistiyorum", "mek istiyorum",
}  # fmt: skip

CREATE_VERBS = ("ekle", "olustur", "ayarla", "koy", "kaydet", "kaydede", "planla", "yaz", "gir", "hatirlat", "isle", "ayir", "tanimla", "kur")  # fmt: skip
DELETE_VERBS = ("sil", "kaldir", "cikar", "temizle", "iptal", "ucur")
UPDATE_VERBS = ("ertele", "tasi", "kaydir", "degistir", "guncelle", "otele", "ceki", "cek", "al")
QUERY_VERBS = ("oku", "goster", "listele", "soyle", "say", "anlat", "bak", "bildir", "ogren", "kontrol")
# nouns that make a sentence about the calendar
CAL_NOUNS = (
    "takvim", "ajanda", "program", "plan", "randevu", "toplanti", "etkinlik", "gorusme", "bulusma",
    "ajand", "organizasyon", "davet", "mesgul", "musait", "bos", "isim", "islerim", "etkinlig",
    "toplantilar", "randevular", "gundem",
)  # fmt: skip
# words that never belong in a title
TITLE_STOP = {
    "bir", "bi", "yeni", "takvime", "takvimime", "takvimde", "takvimimde", "takvimden", "takvimimden",
    "ajandama", "ajandaya", "ajandadan", "programa", "programima", "programdan", "programimdan", "icin",
    "saat", "saati", "saatini", "saatine", "ve", "de", "da", "bana", "benim", "bizim", "bize", "butun",
    "tum", "hepsini", "hep", "olan", "olarak", "diye", "adli", "isimli", "adinda", "bunu", "onu", "sunu",
    "misin", "musun", "misiniz", "musunuz", "mi", "mu", "eder", "et", "edin", "edebilir", "edermisin",
    "edebilirmisin", "eyle", "ederek", "yap", "yapar", "yapabilir", "istiyorum", "lazim", "gerek",
    "gerekiyor", "ediver", "ekleyiver", "bugunku", "simdi", "hemen", "tamam", "kaydi", "kaydini",
    "etkinlik", "etkinligi", "etkinligini", "etkinligi", "etkinlikler", "etkinlikleri", "planimi",
    "planini", "plani", "planlanan", "olayi", "olayini", "notu", "notunu", "not", "sonra", "once",
    "ileri", "geri", "one", "erkene", "itibaren", "kadar", "hatirlatici", "hatirlatma", "ki", "var", "etsem",
    "zahmet", "olmazsa", "vazgectim", "ettim", "ettik", "erkenden", "gunduz", "baslayan", "baslayacak",
    "tarihini", "tarihi", "gununu", "vaktini", "zamanini", "saatinin", "tarihinin",
}  # fmt: skip

UNKNOWN_STEMS = (
    "hava", "yagmur", "kar yag", "sicaklik", "derece", "muzik", "muzig", "sarki", "radyo", "podcast",
    "spotify", "youtube", "video", "film ac", "dizi ac", "netflix", "calar", "cal", "mesaj", "sms",
    "whatsapp", "e-posta", "eposta", "e posta", "mail", "maili", "epostа", "ara", "telefon", "isik",
    "lamba", "klima", "kombi", "isitma", "perde", "kapi", "kilit", "priz", "televizyon", "tv",
    "euro", "avro", "dolar", "doviz", "kur", "borsa", "hisse", "bitcoin", "altin", "faiz", "kripto",
    "trafik", "yol durumu", "navigasyon", "rota", "yol tarifi", "taksi cagir", "restoran", "sipari",
    "yemek sipar", "haber", "mac skoru", "skor", "cevir", "ceviri", "hesapla", "kac eder", "alarm",
    "zamanlayici", "sayac", "kronometre", "ses", "sesi", "volum", "bilgisayari kapat", "uygulama",
    "internette ara", "google", "wikipedia", "vikipedi", "fotograf", "kamera", "ekran goruntusu",
    "bluetooth", "wifi", "parlaklik", "pil", "sarj", "uber", "bilet al", "ucak", "otobus", "metro",
    "eczane", "nobetci", "ilac", "hastane", "adres", "konum", "harita", "ucus", "bankа", "banka",
    "hesabim", "para gonder", "havale", "eft", "fatura", "kargo", "hava durumu", "robot supurge",
    "supurge", "camasir", "bulasik", "firin", "tweet", "instagram", "facebook", "notlarima",
    "alisveris listesi", "listeye ekle", "yapilacaklar",
)  # fmt: skip
