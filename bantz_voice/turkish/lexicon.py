"""Word lists of the fast path, all in ASCII-folded form (see ``text.ascii_fold``)."""

from __future__ import annotations

# the wake word's spellings (ASCII-folded); turkish/wake.py matches them and a pattern around them
WAKE_WORDS = ("bantz", "bants", "banz", "bans", "bandz", "banc", "bantzcim", "bantzcigim")
WAKE_LEAD_FILLERS = ("hey", "hei", "hay", "ey", "hi", "ya", "o", "alo", "merhaba")  # dropped only right before the name
FILLERS = {"sey", "ee", "eee", "eeh", "ehm", "hmm", "hm", "mm", "lutfen", "acaba", "yani", "iste", "aa", "oo", "ya", "bakalim", "rica", "ederim"}  # fmt: skip

# verb stems -> the suffixes that keep them verbs (imperative, polite, question, infinitive)
VERB_SUFFIXES = {
    "", "r", "rmisin", "rmisiniz", "rmi", "yin", "yiniz", "in", "iniz", "sene", "sana", "sen",
    "yebilir", "yebilirmisin", "yabilir", "yabilirmisin", "ebilir", "abilir", "ebilirmisin",
    "abilirmisin", "yebilirsin", "yabilirsin", "ebilirsin", "abilirsin", "mek", "mak", "meni",
    "mani", "mesini", "masini", "yelim", "yalim", "elim", "alim", "ir", "ar", "er", "ur", "ver",
    "iver", "yiver", "yecegim", "yacagim", "ecegim", "acagim", "yeceksin", "yacaksin",
    "mem", "mam", "meliyim", "maliyim", "sin", "sinler", "yebilirmisiniz",
    "yabilirmisiniz", "ebilirmisiniz", "abilirmisiniz", "un", "unuz", "mis", "mistim",
    "ivermisin", "iverir", "iverirmisin", "verir", "verirmisin", "ler", "lar", "mesi", "masi",
    "mesine", "masina", "yelimmi", "yalimmi", "ecek", "acak", "yecek", "yacak", "iyorum", "uyorum",
    "yorum", "iyoruz", "uyoruz", "yoruz", "mekistiyorum", "makistiyorum", "mek istiyorum",
}  # fmt: skip

CREATE_VERBS = ("ekle", "olustur", "ayarla", "koy", "kaydet", "kaydede", "planla", "yaz", "gir", "hatirlat", "isle", "ayir", "tanimla", "kur")  # fmt: skip
DELETE_VERBS = ("sil", "kaldir", "cikar", "temizle", "iptal", "ucur")
UPDATE_VERBS = ("ertele", "tasi", "kaydir", "degistir", "guncelle", "otele", "ceki", "cek", "al")
# words that never belong in a title
TITLE_STOP = {
    "bir", "bi", "yeni", "takvime", "takvimime", "takvimde", "takvimimde", "takvimden", "takvimimden",
    "ajandama", "ajandaya", "ajandadan", "programa", "programima", "programdan", "programimdan", "icin",
    "saat", "saati", "saatini", "saatine", "ve", "de", "da", "bana", "benim", "bizim", "bize", "butun",
    "tum", "hepsini", "hep", "olan", "olarak", "diye", "adli", "isimli", "adinda", "bunu", "onu", "sunu",
    "misin", "musun", "misiniz", "musunuz", "mi", "mu", "eder", "et", "edin", "edebilir", "edermisin",
    "edebilirmisin", "eyle", "ederek", "yap", "yapar", "yapabilir", "istiyorum", "lazim", "gerek",
    "gerekiyor", "ediver", "ekleyiver", "bugunku", "simdi", "hemen", "tamam", "kaydi", "kaydini",
    "etkinlik", "etkinligi", "etkinligini", "etkinlikler", "etkinlikleri", "planimi",
    "planini", "plani", "planlanan", "olayi", "olayini", "notu", "notunu", "not", "sonra", "once",
    "ileri", "geri", "one", "erkene", "itibaren", "kadar", "hatirlatici", "hatirlatma", "ki", "var", "etsem",
    "zahmet", "olmazsa", "vazgectim", "ettim", "ettik", "erkenden", "gunduz", "baslayan", "baslayacak",
    "tarihini", "tarihi", "gununu", "vaktini", "zamanini", "saatinin", "tarihinin",
}  # fmt: skip

# --- Spoken Turkish: the tables of ``morph`` and ``normalize`` --------------------------------

ONES = ("", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz")
TENS = ("", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan")
DIGITS = ("sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz")
SCALES = ((10**15, "katrilyon"), (10**12, "trilyon"), (10**9, "milyar"), (10**6, "milyon"), (1000, "bin"))
MONTHS = ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık")
WEEKDAYS = ("Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar")

# letter names for spelling (an acronym the way Turkish speakers say it: "TBMM" -> "te be me me")
LETTER_NAMES = {
    "a": "a", "b": "be", "c": "ce", "ç": "çe", "d": "de", "e": "e", "f": "fe", "g": "ge", "ğ": "yumuşak ge",
    "h": "he", "ı": "ı", "i": "i", "j": "je", "k": "ka", "l": "le", "m": "me", "n": "ne", "o": "o", "ö": "ö",
    "p": "pe", "r": "re", "s": "se", "ş": "şe", "t": "te", "u": "u", "ü": "ü", "v": "ve", "y": "ye", "z": "ze",
    "q": "kü", "w": "çift ve", "x": "iks",
}  # fmt: skip
# pronounceable acronyms that are nevertheless spelled out
SPELLED_ACRONYMS = frozenset({"AB", "İTÜ", "YTÜ", "AÜ", "EÜ", "İÜ", "OSB", "AİHM", "ATM"})
# acronyms read as their expansion ("KDV'yi" -> "katma değer vergisini": the last word is a compound
# with the third-person possessive, so a case suffix takes the n buffer)
ACRONYM_EXPANSIONS = {
    "KDV": ("katma değer vergisi", True), "ÖTV": ("özel tüketim vergisi", True),
    "A.Ş.": ("anonim şirketi", True), "Ltd.": ("limitet", False), "Şti.": ("şirketi", True),
    "T.C.": ("te ce", False),
}  # fmt: skip

# abbreviations ending in a dot (the chunker never cuts after them); the key is the written form
ABBREVIATIONS = {
    "Dr.": "doktor", "Prof.": "profesör", "Doç.": "doçent", "Av.": "avukat", "Sn.": "sayın", "Op.": "operatör",
    "Yrd.": "yardımcı", "Öğr.": "öğretim", "Gör.": "görevlisi", "Uzm.": "uzman", "Müh.": "mühendis",
    "vb.": "ve benzeri", "vs.": "vesaire", "vd.": "ve diğerleri", "örn.": "örneğin", "ör.": "örneğin",
    "bkz.": "bakınız", "Bkz.": "bakınız", "Tel.": "telefon", "tel.": "telefon", "Cad.": "caddesi",
    "Sok.": "sokak", "Mah.": "mahallesi", "Apt.": "apartmanı", "Blv.": "bulvarı", "yy.": "yüzyıl",
    "No.": "numara", "Nu.": "numara", "s.": "sayfa", "sf.": "sayfa", "Alb.": "albay", "Gen.": "general",
    "yak.": "yaklaşık",
}  # fmt: skip
# abbreviations that stand before a name or a number ("Dr. Ayşe", "No. 5"): never a sentence end
ABBREVIATION_TITLES = frozenset({
    "Dr.", "Prof.", "Doç.", "Av.", "Sn.", "Op.", "Yrd.", "Öğr.", "Gör.", "Uzm.", "Müh.", "Alb.", "Gen.", "No.",
    "Nu.", "s.", "sf.", "Tel.", "tel.", "bkz.", "Bkz.", "örn.", "ör.", "yak.", "Cad.", "Sok.", "Mah.", "Apt.", "Blv.",
    "Ltd.",
})  # fmt: skip
# words after which a single capital letter with a dot is a regnal number ("Sultan V. Mehmet"),
# not a name's initial ("Mehmet V. Delibaş")
REGNAL_TITLES = frozenset({"sultan", "kral", "kraliçe", "papa", "şah", "han", "hanı", "imparator", "çar", "dük", "kont", "prens", "prenses", "padişah", "halife"})  # fmt: skip

# units after a number; the key is matched case-sensitively
UNITS = {
    "km²": "kilometrekare", "km2": "kilometrekare", "m²": "metrekare", "m2": "metrekare", "cm²": "santimetrekare",
    "m³": "metreküp", "m3": "metreküp", "cm³": "santimetreküp", "km/sa": "kilometre", "km/s": "kilometre",
    "km/h": "kilometre", "m/s": "metre bölü saniye", "km": "kilometre", "m": "metre", "cm": "santimetre",
    "mm": "milimetre", "kg": "kilogram", "g": "gram", "gr": "gram", "mg": "miligram", "ton": "ton",
    "lt": "litre", "L": "litre", "l": "litre", "ml": "mililitre", "°C": "derece", "℃": "derece", "°F": "fahrenhayt",
    "°": "derece", "dk": "dakika", "sn": "saniye", "sa": "saat", "ms": "milisaniye", "kWh": "kilovatsaat",
    "kW": "kilovat", "W": "vat", "V": "volt", "mAh": "miliamper saat", "Hz": "hertz", "kHz": "kilohertz",
    "MHz": "megahertz", "GHz": "gigahertz", "KB": "kilobayt", "MB": "megabayt", "GB": "gigabayt",
    "TB": "terabayt", "ha": "hektar", "dönüm": "dönüm", "kcal": "kilokalori", "cal": "kalori",
}  # fmt: skip
# a unit read per time: "120 km/sa" -> "saatte yüz yirmi kilometre"
UNIT_RATE = {"km/sa": "saatte", "km/h": "saatte", "km/s": "saniyede"}

CURRENCIES = {
    "TL": "lira", "₺": "lira", "TRY": "lira", "lira": "lira", "$": "dolar", "USD": "dolar", "dolar": "dolar",
    "€": "avro", "EUR": "avro", "euro": "avro", "avro": "avro", "£": "sterlin", "GBP": "sterlin",
    "sterlin": "sterlin", "¥": "yen", "JPY": "yen", "CHF": "frank",
}  # fmt: skip
SUBUNITS = {"lira": "kuruş", "dolar": "sent", "avro": "sent", "sterlin": "peni", "frank": "santim", "yen": "sen"}

SYMBOLS = {"&": "ve", "+": "artı", "=": "eşittir", "±": "artı eksi", "×": "çarpı", "÷": "bölü", "≈": "yaklaşık",
           "≠": "eşit değildir", "≤": "küçük eşittir", "≥": "büyük eşittir", "→": "", "§": "paragraf", "#": "numara"}  # fmt: skip
VULGAR_FRACTIONS = {"½": (1, 2), "¼": (1, 4), "¾": (3, 4), "⅓": (1, 3), "⅔": (2, 3), "⅕": (1, 5), "⅛": (1, 8)}
# web addresses: labels read as words; a two-letter country code is spelled ("tr" -> "te re")
WEB_WORDS = {"com", "org", "net", "gov", "edu", "info", "biz", "mil", "io", "app", "dev", "bel", "k12", "av", "pol", "web", "gen"}  # fmt: skip
WEB_SYMBOLS = {".": "nokta", "@": "et", "_": "alt çizgi", "-": "tire", "/": "bölü", ":": "iki nokta"}
FILE_EXTENSIONS = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "jpg", "jpeg", "png", "gif", "zip", "mp3", "mp4", "html", "htm", "json", "xml"}  # fmt: skip
# idioms written with digits
NUMBER_IDIOMS = {"24/7": "yirmi dört yedi", "7/24": "yedi yirmi dört"}
# loanwords whose suffixes take front vowels although their last vowel is back ("saatte", "golü")
HARMONY_EXCEPTIONS = {
    "saat": "e", "hal": "e", "kalp": "e", "harf": "e", "dikkat": "e", "seyahat": "e", "sanat": "e", "hakikat": "e",
    "gol": "ö", "rol": "ö", "alkol": "ö", "kontrol": "ö", "petrol": "ö", "protokol": "ö", "sembol": "ö",
    "futbol": "ö", "voleybol": "ö", "basketbol": "ö", "hentbol": "ö", "santral": "e", "etiket": "e",
}  # fmt: skip
# consonant clusters Turkish allows at the start (loanwords: "tren", "spor") and at the end of a
# word ("sert", "renk", "üst"); normalize.pronounceable() reads an all-caps word as a word with them
ONSET_CLUSTERS = frozenset({"br", "bl", "pr", "pl", "tr", "kr", "kl", "gr", "gl", "fr", "fl", "dr", "sp", "st", "sk", "sl", "sm", "sn"})  # fmt: skip
CODA_CLUSTERS = frozenset({
    "rt", "rk", "rp", "rç", "rs", "rş", "rz", "rd", "rm", "rn", "rb", "rf", "rg", "lt", "lk", "lp", "ls", "lç",
    "lm", "lf", "nt", "nk", "nç", "nd", "ns", "nş", "st", "şt", "ft", "ks", "hs", "ht", "yt", "yk", "ys", "yn",
    "yl", "mp", "mb", "rl",
})  # fmt: skip
# the last label of a web address written without a scheme ("ornek.com.tr")
TOP_LEVEL_DOMAINS = frozenset({"com", "org", "net", "gov", "edu", "info", "biz", "io", "app", "dev", "tr", "de", "uk", "eu", "us", "fr", "nl", "ai", "co", "me", "tv"})  # fmt: skip
