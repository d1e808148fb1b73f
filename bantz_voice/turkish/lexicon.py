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
