"""Names, titles and sentences the simulator draws from (all fictional)."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Mira",
    "Jonas",
    "Lena",
    "Noah",
    "Emma",
    "Felix",
    "Clara",
    "Oskar",
    "Hannah",
    "Paul",
    "Sofia",
    "Leon",
    "Mia",
    "Elias",
    "Lina",
    "Ben",
    "Amelia",
    "Oliver",
    "Isla",
    "Jack",
    "Chloe",
    "Lucas",
    "Zoe",
    "Hugo",
    "Nora",
    "Theo",
    "Aisha",
    "Mateo",
    "Yara",
    "Omar",
    "Ines",
    "Pieter",
    "Saoirse",
    "Chiara",
    "Kofi",
    "Mei",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Muller",
    "Schmidt",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Martin",
    "Bernard",
    "Dubois",
    "de Vries",
    "Jansen",
    "Murphy",
    "Kelly",
    "Rossi",
    "Bianchi",
    "Garcia",
    "Lopez",
    "O'Brien",
    "Nowak",
    "Kowalski",
    "Novak",
    "Silva",
    "Costa",
)
#: (ISO code, GA4 country name, cities, weight)
COUNTRIES = (
    ("DE", "Germany", ("Berlin", "Hamburg", "Munich", "Cologne"), 0.42),
    ("AT", "Austria", ("Vienna", "Graz"), 0.08),
    ("CH", "Switzerland", ("Zurich", "Basel"), 0.06),
    ("GB", "United Kingdom", ("London", "Manchester", "Edinburgh"), 0.14),
    ("IE", "Ireland", ("Dublin", "Cork"), 0.04),
    ("NL", "Netherlands", ("Amsterdam", "Utrecht"), 0.08),
    ("FR", "France", ("Paris", "Lyon"), 0.08),
    ("US", "United States", ("New York", "Chicago", "Seattle"), 0.10),
)
EMAIL_DOMAINS = ("example.com", "mail.example", "post.example", "inbox.example")

BOOK_WORDS_A = (
    "Silent",
    "Paper",
    "Northern",
    "Hidden",
    "Last",
    "Quiet",
    "Glass",
    "Winter",
    "Salt",
    "Iron",
    "Lantern",
    "Distant",
)
BOOK_WORDS_B = (
    "Harbour",
    "Garden",
    "Archive",
    "Orchard",
    "Library",
    "River",
    "Engine",
    "Atlas",
    "Observatory",
    "Meridian",
)
#: (title, price in cents) of the custom review services.
REVIEW_SERVICES = (
    ("Custom book review: short", 2900),
    ("Custom book review: standard", 4900),
    ("Custom book review: in-depth", 8900),
    ("Custom book review: express", 12900),
)

#: (source, medium, campaign, weight); "(direct)" means no campaign data on the hit.
TRAFFIC_SOURCES = (
    ("google", "organic", "(organic)", 0.34),
    ("(direct)", "(none)", "(direct)", 0.24),
    ("newsletter", "email", "weekly_picks", 0.12),
    ("facebook", "cpc", "autumn_reads", 0.10),
    ("instagram", "social", "(referral)", 0.08),
    ("bing", "organic", "(organic)", 0.05),
    ("bookblog.example", "referral", "(referral)", 0.07),
)
#: (category, operating system, browser, weight)
DEVICES = (
    ("desktop", "Windows", "Chrome", 0.24),
    ("desktop", "Macintosh", "Safari", 0.12),
    ("desktop", "Windows", "Edge", 0.06),
    ("desktop", "Linux", "Firefox", 0.04),
    ("mobile", "iOS", "Safari", 0.26),
    ("mobile", "Android", "Chrome", 0.22),
    ("tablet", "iOS", "Safari", 0.06),
)
#: (path, title) of pages browsed between product views.
PAGES = (
    ("/", "Inkwell Books - Home"),
    ("/books", "All books"),
    ("/books/new", "New arrivals"),
    ("/reviews", "Custom book reviews"),
    ("/reviews/how-it-works", "How custom reviews work"),
    ("/account/orders", "My orders"),
    ("/help/shipping", "Shipping and delivery"),
    ("/blog/reading-list", "Our autumn reading list, annotated"),
)

#: (reason, subject template, opening comment template); {order} is the order number.
TICKET_REASONS = {
    "late_delivery": (
        "Where is my order {order}?",
        "Hi,\nmy order {order} was promised for {promised} but hasn't arrived yet. "
        "Can you check where it is?",
    ),
    "damaged_item": (
        "Order {order} arrived damaged",
        "Hello, the book from order {order} arrived with a torn cover and bent pages, "
        "see photo. I'd like a replacement or my money back.",
    ),
    "refund_request": (
        "Refund for order {order}",
        "Hi there, I'd like to return order {order} and get a refund, please. "
        'It was a gift, and "the wrong edition".',
    ),
    "how_to": (
        "How do I send my manuscript for a review?",
        "Hello,\nhow do I upload my manuscript for the custom review, and which formats "
        "(docx, pdf, epub) do you accept?",
    ),
}
AGENT_REPLIES = (
    "Thanks for getting in touch, I'm looking into this now.",
    "Sorry about that! I've checked with the carrier, details below.",
    "Thanks for your patience, here is what we can do for you.",
    "Happy to help: you'll find the steps below, let me know if anything is unclear.",
)
REQUESTER_REPLIES = (
    "Thanks, but it still hasn't arrived.",
    "Could you please tell me when I can expect it?",
    "OK, that worked. Thanks!",
    "I've attached the photo again, hope it comes through this time.",
)
INTERNAL_NOTES = (
    "Waiting for the carrier's investigation.",
    "Escalated to the warehouse team, on hold until they reply.",
)
SATISFACTION_COMMENTS_GOOD = ("Quick and friendly, thanks!", "Sorted in no time.", "")
SATISFACTION_COMMENTS_BAD = (
    "Took far too long.",
    "Still no solution, very disappointed.",
    "",
)
#: Survey comments, chosen by how the respondent felt and what went wrong for them (the
#: story the marts tell): commas, quotes, line breaks, several languages' punctuation and
#: emoji on purpose. An empty string is an answer left without a comment.
SURVEY_COMMENTS_GOOD = (
    "",
    "",
    "Great selection, fast delivery.",
    'The "express" review was worth every cent, thanks!',
    'Lovely shop.\nWill order again, and tell my "book club".',
    "Love it ❤️ great books and friendly service!",
    "Super Auswahl, schnelle Lieferung – gerne wieder! 😊",
    "Livraison rapide, livres en parfait état : merci ! 👍",
    "¡Me encanta la tienda! Excelente servicio 📚",
)
SURVEY_COMMENTS_NEUTRAL = (
    "",
    "",
    "OK, but shipping costs are high.",
    "Fine overall; the website search could be better.",
    "Bien, mais les prix sont un peu chers…",
    "Ganz okay; die Suche auf der Webseite könnte besser sein.",
)
#: After a late parcel.
SURVEY_COMMENTS_LATE = (
    "",
    "My order was late, again.",
    "The parcel arrived a week late 😡 terrible.",
    "Late delivery and no tracking updates. Not happy.",
    "Lieferung kam viel zu spät, sehr enttäuschend!",
    "Colis en retard de cinq jours… très déçu.",
    "¡El envío llegó tarde! Terrible.",
)
#: After a ticket whose reply breached the SLA or that was never resolved.
SURVEY_COMMENTS_SUPPORT = (
    "",
    'The agent said "tomorrow" three times,\nstill waiting. Very disappointed.',
    "Waited days for an answer from support. Awful, really bad.",
    "Nobody answered my ticket, terrible customer service 👎",
    "Kundenservice antwortet nicht – schlecht!",
    "Le service client ne répond jamais, c'est inadmissible !",
)
#: Unhappy for another reason.
SURVEY_COMMENTS_BAD = (
    "",
    "Book arrived damaged, refund took weeks, not happy.",
    "Too expensive for what you get, disappointed.",
    "The checkout on the website kept failing. Frustrating!",
)
#: Contact details some unhappy respondents add ({email} is their own address): the
#: marts must show them masked.
SURVEY_CONTACT_SUFFIXES = (
    " Call me: +49 30 1234 5678",
    " Please email me at {email}",
    " Ruf mich an: 0151 2345 6789.",
    " Mon numéro : 06 12 34 56 78",
    " Reach me at {email} or (555) 010-4477.",
)
