"""Redact identifying details from what practitioners type.

Everything a practitioner types passes through :func:`redact` before it is stored, matched or echoed
back. Each identifying span is replaced by its kind in brackets::

    >>> redact("mum Kelly, mob 07700 900123, lives at 9 Elm Road, B33 8TH").text
    'mum [name], mob [phone number], lives at [address], [postcode]'

How it works: one small detector per kind, each yielding :class:`Span` objects with offsets into the
original text. Overlapping spans are resolved (the longest wins; on a tie, the detector listed first
in ``DETECTORS``), then replacements are applied right to left so earlier offsets stay valid.

Nothing here uses the network or a model: regular expressions, the NHS number checksum, the
``phonenumbers`` library (offline metadata) and small built-in word lists for names.

The detectors lean towards redacting: a missed name or phone number is a leak into storage, a
redacted ordinary word costs a little readability. The word lists below keep the common
practitioner vocabulary (agencies, roles, weekdays, months, "Mum said", "School called") intact.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import phonenumbers

__all__ = ["Span", "Redacted", "redact", "DETECTORS", "nhs_checksum_ok"]


@dataclass(frozen=True)
class Span:
    """An identifying stretch of the ORIGINAL text: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redacted:
    """The redacted text and the spans (in the original text) that were replaced."""

    text: str
    spans: tuple[Span, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The distinct kinds found, sorted."""
        return tuple(sorted({span.kind for span in self.spans}))


NHS = "NHS number"
POSTCODE = "postcode"
PHONE = "phone number"
EMAIL = "email"
NI = "NI number"
DOB = "date of birth"
ADDRESS = "address"
SOCIAL = "social media"
NAME = "name"


def _words(block: str) -> frozenset[str]:
    return frozenset(block.lower().split())


# --------------------------------------------------------------------------------------------------
# NHS number: 10 digits, checksum-valid only. 3-3-4 with spaces or dashes, or run together; in any
# spacing at all right after the word "NHS".
# --------------------------------------------------------------------------------------------------

_DIGITS_EDGE_BEFORE = r"(?<![\d+])(?<!\d[ -])"
_DIGITS_EDGE_AFTER = r"(?![ -]?\d)"
# Written 3-3-4 (spaces or dashes) or run together...
_NHS = re.compile(rf"{_DIGITS_EDGE_BEFORE}\d{{3}}[ -]?\d{{3}}[ -]?\d{{4}}{_DIGITS_EDGE_AFTER}")
# ...or, straight after the words "NHS number", in any spacing at all.
_NHS_AFTER_LABEL = re.compile(
    rf"\bnhs\b[^\d\n]{{0,20}}?(?P<number>{_DIGITS_EDGE_BEFORE}\d(?:[ -]?\d){{9}}){_DIGITS_EDGE_AFTER}",
    re.I,
)


def nhs_checksum_ok(digits: str) -> bool:
    """Modulus 11 check: weights 10..2 on the first 9 digits; 11 - remainder (11 -> 0, 10 invalid)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str) -> Iterator[Span]:
    for m in _NHS.finditer(text):
        if nhs_checksum_ok(re.sub(r"\D", "", m.group())):
            yield Span(m.start(), m.end(), NHS)
    for m in _NHS_AFTER_LABEL.finditer(text):
        if nhs_checksum_ok(re.sub(r"\D", "", m.group("number"))):
            yield Span(m.start("number"), m.end("number"), NHS)


# --------------------------------------------------------------------------------------------------
# Postcode: A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA, AA9A 9AA, GIR 0AA; any case, space optional.
# --------------------------------------------------------------------------------------------------

_POSTCODE = re.compile(r"\b(?:GIR ?0AA|(?P<out>[A-Z]{1,2}\d[A-Z\d]?) ?(?P<in>\d[A-Z]{2}))\b", re.I)
_POSTCODE_CANONICAL = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}")
# The 120-odd postcode areas: "Y6 2ND" (Year 6, second half) is not a postcode. Written as a
# postcode is ("B33 8TH") any inward letters are taken; lower-case or run together ("b338th"), only
# the letters real postcodes use (never C, I, K, M, O, V), so "7am", "7pm" stay.
_POSTCODE_AREAS = _words("""
    ab al b ba bb bd bf bh bl bn br bs bt ca cb cf ch cm co cr ct cv cw da dd de dg dh dl dn dt dy
    e ec eh en ex fk fy g gl gu gy ha hd hg hp hr hs hu hx ig im ip iv je ka kt kw ky l la ld le ll
    ln ls lu m me mk ml n ne ng nn np nr nw ol ox pa pe ph pl po pr rg rh rm s sa se sg sk sl sm sn
    so sp sr ss st sw sy ta td tf tn tq tr ts tw ub w wa wc wd wf wn wr ws wv yo ze
""")
_POSTCODE_BAD_INWARD = set("CIKMOV")


def find_postcodes(text: str) -> Iterator[Span]:
    for m in _POSTCODE.finditer(text):
        if m.group("out"):
            area = re.match(r"[A-Za-z]+", m.group("out")).group().lower()
            if area not in _POSTCODE_AREAS:
                continue
            odd_letters = set(m.group("in")[1:].upper()) & _POSTCODE_BAD_INWARD
            if odd_letters and not _POSTCODE_CANONICAL.fullmatch(m.group()):
                continue
        yield Span(m.start(), m.end(), POSTCODE)


# --------------------------------------------------------------------------------------------------
# Phone number: the phonenumbers library, region GB, offline.
# --------------------------------------------------------------------------------------------------

_DATE_LIKE = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}")


def find_phone_numbers(text: str) -> Iterator[Span]:
    # POSSIBLE rather than VALID leniency: Ofcom's drama ranges (07700 900xxx) and new allocations
    # fail VALID. To keep dates, ages and bare 10-digit NHS-like numbers out, a match must be
    # written as people write phone numbers: starting 0, +, 00 or (0, with at least 10 digits.
    matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        raw = match.raw_string
        digits = re.sub(r"\D", "", raw)
        if not re.match(r"\(?[+0]", raw) or len(digits) < 10 or _DATE_LIKE.fullmatch(raw):
            continue
        yield Span(match.start, match.end, PHONE)


# --------------------------------------------------------------------------------------------------
# Email.
# --------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+'’-])[\w.%+'’-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")


def find_emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), EMAIL)


# --------------------------------------------------------------------------------------------------
# National Insurance number: two prefix letters, six digits, suffix A-D; any case or spacing.
# --------------------------------------------------------------------------------------------------

_NI = re.compile(
    r"\b(?P<prefix>[A-Z]{2})[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}(?:[ -]?(?P<suffix>[A-D]))?\b", re.I
)
_NI_NOT_ALLOCATED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _ni_prefix_ok(prefix: str) -> bool:
    prefix = prefix.upper()
    if prefix == "QQ":  # HMRC's own example prefix: people copy it from forms, so treat it as real
        return True
    return (
        prefix[0] not in "DFIQUV"
        and prefix[1] not in "DFIOQUV"
        and prefix not in _NI_NOT_ALLOCATED
    )


def find_ni_numbers(text: str) -> Iterator[Span]:
    for m in _NI.finditer(text):
        prefix = m.group("prefix")
        if not _ni_prefix_ok(prefix):
            continue
        if not m.group("suffix") and not prefix.isupper():  # "at 12 34 56" is not an NI number
            continue
        yield Span(m.start(), m.end(), NI)


# --------------------------------------------------------------------------------------------------
# Date of birth: a date introduced by DOB / d.o.b / date of birth / born (on|in). Other dates stay.
# --------------------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:\d{4}|'?\d{2})"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?"
_DATE = (
    rf"(?:{_WEEKDAY}(?:"
    r"[0-3]?\d[/.][01]?\d(?:[/.](?:\d{4}|\d{2}))?"  # 12/03/2015, 3.4.19, 14/2
    r"|[0-3]?\d-[01]?\d-(?:\d{4}|\d{2})"  # 02-11-2018
    rf"|(?:the\s+)?{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR})?"  # 1 May 2016, the 3rd of March
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?"  # October 12th 2015
    rf"|{_MONTH}\s+\d{{4}}"  # March 2022
    r"))(?![\w/])"
)
_DOB = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|born(?:\s+on|\s+in)?)"
    r"(?:\s*[:=\-–]\s*|\s+(?:is|was)\s+|\s+)"
    rf"(?P<date>{_DATE})",
    re.I,
)


def find_dates_of_birth(text: str) -> Iterator[Span]:
    for m in _DOB.finditer(text):
        yield Span(m.start("date"), m.end("date"), DOB)


# --------------------------------------------------------------------------------------------------
# Address: "Flat 3", and a house number + street name + street type ("22 oak road", "5a Beech Grove").
# --------------------------------------------------------------------------------------------------

_STREET_TYPES = (
    r"road|rd|street|st|avenue|ave|lane|ln|close|cl|drive|dr|way|crescent|cres|court|ct|place|pl"
    r"|grove|gr|terrace|tce|gardens|gdns|square|sq|walk|hill|rise|row|mews|parade|boulevard|vale"
    r"|green|park|view|chase|croft|meadows?|fields|wharf|yard|hollow|heights|approach|circus|wynd"
)
_FLAT = r"(?:flat|apartment|apt)\.?\s*\d{1,4}[a-z]?\b"
_ADDRESS = re.compile(
    rf"(?<![\w/.:£$-])(?:(?P<flat>{_FLAT})(?:\s*,\s*|\s+))?"
    rf"(?P<number>\d{{1,4}}[a-z]?),?\s+"
    rf"(?P<street>(?:[a-z][a-z'’.-]*\s+){{1,3}}?)"
    rf"(?:{_STREET_TYPES})\b\.?",
    re.I,
)
_FLAT_ONLY = re.compile(rf"\b{_FLAT}", re.I)
# Words that cannot be part of a street name: they show "7 days in court" or "3 times at the Close"
# is not an address.
_NOT_STREET = _words("""
    the a an at in on of to for and or but with from by is was are were be been it its his her their
    my our your he she they we i you this that these those not no so as if then than up down out off
    over into onto about after before around near by times time year years yr yrs old month months
    week weeks day days hour hours minutes mins seconds kids children child people visits visit
    miles mile pm am o'clock more less other others different same many few some all each every
    went goes going go gone come came get got had has have said says told walked walk walks lives
    living live moved moving stayed staying percent per cent out of points point nights night
""")


def find_addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS.finditer(text):
        street_words = re.findall(r"[a-z'’.-]+", m.group("street").lower())
        if any(word.strip(".") in _NOT_STREET for word in street_words):
            continue
        yield Span(m.start(), m.end(), ADDRESS)
    for m in _FLAT_ONLY.finditer(text):
        yield Span(m.start(), m.end(), ADDRESS)


# --------------------------------------------------------------------------------------------------
# Social media: profile URLs, @handles, and handles given after a platform's name.
# --------------------------------------------------------------------------------------------------

_SOCIAL_URL = re.compile(
    r"(?:https?://)?(?:www\.|m\.|mobile\.|vm\.)?"
    r"(?:facebook\.com|fb\.com|fb\.me|instagram\.com|instagr\.am|tiktok\.com|snapchat\.com"
    r"|twitter\.com|x\.com|threads\.net)/[^\s,;)\]}\"'<>]+",
    re.I,
)
_AT_HANDLE = re.compile(r"(?<![\w@.])@(?P<handle>[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)")
_AT_NOT_HANDLE = _words("school home work nursery college the a an gp hospital")
_PLATFORM_HANDLE = re.compile(
    r"\b(?:snapchat|snap|insta(?:gram)?|ig|tik\s?tok|twitter|facebook|fb)\b"
    r"(?:\s+(?:handle|name|username|user\s+name|account|acc|id|page))?"
    r"(?P<sep>\s*[:=]\s*|\s+(?:is|as)\s+|\s+)"
    r"(?P<handle>[A-Za-z0-9_][A-Za-z0-9_.]{1,28}[A-Za-z0-9_])",
    re.I,
)


def find_social_media(text: str) -> Iterator[Span]:
    for m in _SOCIAL_URL.finditer(text) if "/" in text else ():  # a profile URL always has a slash
        end = m.end()
        while end > m.start() and text[end - 1] in ".,!?":
            end -= 1
        yield Span(m.start(), end, SOCIAL)
    for m in _AT_HANDLE.finditer(text) if "@" in text else ():
        if m.group("handle").lower() not in _AT_NOT_HANDLE:
            yield Span(m.start(), m.end(), SOCIAL)
    for m in _PLATFORM_HANDLE.finditer(text):
        handle = m.group("handle")
        # "her snapchat is kayla_xo09" / "snap: kaylaxo" are handles; "her snapchat is private" is not.
        if re.search(r"[\d_.]", handle) or re.search(r"[:=]", m.group("sep")):
            yield Span(m.start("handle"), m.end("handle"), SOCIAL)


# --------------------------------------------------------------------------------------------------
# Names.
# --------------------------------------------------------------------------------------------------

# Common given names in the UK (children and adults). Names that are also ordinary English words
# are in _WORD_NAMES instead: they count as names only where the context says so.
_GIVEN_NAMES = _words("""
    aaliyah aaron abbie abby abdul abdullah abigail adam adrian aiden aidan aimee aisha ajay alan
    albert alex alexander alexandra alexis alfie alice alicia alisha alison alistair amanda amara
    amelia amina amir amira amy ana andre andrea andrew andy angela angelica anita ann anna anne
    annie anthony archie arjun arlo arthur ashley asif aston aurora ava ayesha bailey barbara
    barry beatrice becky ben benjamin bethany beth billy bobby bradley brandon brendan brian
    brooke brooklyn bryony caitlin callum cameron carl carla carly caroline cassie catherine chantelle
    charlene charles charlotte chelsea cheryl chloe chris christina christine christopher ciara
    cian claire clare cody colin connor conor courtney craig cristian daisy-mae dalton damian
    damien daniel daniela danielle danny darcey darcie darcy darren darryl dave david dawid
    deborah debbie declan dee demi denise derek dexter dominic donna dylan eden edward eileen
    eleanor elena eli elijah elise eliza elizabeth ella ellie elliot elliott ellis eloise elsie
    emily emma erin ethan eva evelyn evie ezra faisal farah fatima fiona florence francesca
    freddie freya gabriel gareth gary gavin gemma georgia george georgina gerald gillian gordon
    graham hafsa haleema hannah harley harper harriet harris harrison harvey hassan hayden
    hayley heidi helen henry hollie hugo hussain ian ibrahim idris imogen imran isaac isabel
    isabella isabelle isla ismail ivan jacob jade-louise jake jakub james jamie jane janet
    jasmine jason jasper jaxon jayden jayda jaylen jean jemma jenna jennifer jenny jessica
    jess jessie joanne joe joel joey john jonathan jordan joseph josh joshua josie joyce julia
    julie justin kacper kai kane kaden karen karl kate katie katherine kayden kayla kayleigh keeley
    keira keith kelly kelsey kenneth kerry kevin kian kieran kim kirsty kyle lacey laila lana
    lara laura lauren layla leah leanne lee leighton leo leon levi lewis lexi liam libby lilly
    lillie linda lindsey lisa logan lola lorraine louie louis louise lucas lucy luke luna lydia
    lynn lynne maddison madison mandy marcus margaret maria marie martin mary matilda matthew
    maureen maya megan melissa mia michael michaela michelle mikey millie mohammed mohammad
    mohamed muhammad molly-mae musa mustafa nadia naomi natalie natasha nathan nathaniel neil
    nevaeh niamh nicola nicole noah nora nuala olivia oliver oliwia ollie omar oscar owen paige
    pamela patrick paul paula peter pete phoebe phillip philip priya rachel rachael raymond reece
    rees reggie rebecca rhys ricky riley rio robert robyn rory ross roxanne ruth ryan sadie sally
    samantha sam samuel sandra sara sarah scarlett sean sebastian shane shannon sharon shaun shauna
    sheila shelby sian sienna simon sofia sophia sophie stacey stanley stephanie stephen steve
    steven stuart susan suzanne tanya tara taylor teagan teegan terry theo theodore thomas tia
    tiffany tilly tim timothy toby tom tommy toni tony tracey tracy travis tyler tyreese tyrone
    valerie vanessa vicky victoria vincent wayne wendy wiktoria william yasmin yusuf zac zach
    zachary zainab zak zara zoe zuzanna kelz kez jodie jody lily-mae lacie alesha alisha amani
    kayne kaiden maisie maisy mollie nathalie rosie ronnie reuben rosa ruben sonny stevie tegan
    tommie troy vinnie wesley yasmine zayn zain ayaan aryan rayan hamza bilal usman zaid arlo
    ahmed ali jamal kareem tariq waqas zeeshan shabana nasreen parveen samina shazia rukhsana
    shirley pauline brenda janice gail tina sue-ellen jackie sandie pete joanna callie sasha
    """) | _words("""
    curtis nicholas douglas dennis francis alexis phyllis doris gladys agnes frances tobias elias
    jonas silas cass tess carys gus russ les wes des jules otis ilyas abbas younis
    kacey kacie kaci macey macie casey tiana tianna keisha shanice jermaine marlon tyrell
    zion ezekiel zeke malachi micah isaiah josiah jeremiah caleb marnie keanu deshawn kyrie
    kairo kobe nico enzo luca mateo rafael aria ada esme orla mila ayla arya thea ottilie margot
    delilah ophelia peyton remi skyla skylar harlow hallie bonnie lottie nellie mabel edith maeve
    beau bodhi jude albie teddy frankie rowan finley finn jenson grayson tyson tyrese ashton jax
    brody corey kobi kenzie mackenzie mckenzie kenzo zayden jayce jace lennon lennox marley jimmy
    johnny georgie dougie
    aled bronwen cerys dafydd gethin gwen ieuan iwan megan morgan osian rhian rhodri siobhan
    aoife eoin fionn niall padraig saoirse sinead kieron cormac ailsa calum fraser hamish isla
    kirsty lachlan mhairi morag rhona struan euan ewan murray
""")
# Given names that are also ordinary words (or months, or slang): names only in context.
_WORD_NAMES = _words("""
    will may june april august hope grace faith joy mark bill rose summer autumn dawn eve frank
    sue pat rob ray miles holly ivy lily daisy poppy ruby amber jade pearl violet iris heather
    crystal sky skye river storm hunter mason carter cooper jack harry guy chase grant max nick
    drew penny sunny honey destiny precious blessing trinity liberty star angel king prince
    charlie molly brandy ebony willow robin gene art don carol norman glen dale brook rocky rusty
    hazel olive cherry coral harmony melody heaven journey justice marvel reign royal kitty
    misty dusty winter dean moses
""")
_NAMES = _GIVEN_NAMES | _WORD_NAMES
_MONTH_NAMES = _words("january february march april may june july august september october november december")
# Capitalised mid-sentence, these word-names are more often something else ("Sky", "King's").
_WORD_NAMES_NOT_MID_SENTENCE = _MONTH_NAMES | _words("sky river king prince angel star storm heaven royal")

_SURNAMES = _words("""
    smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson thompson
    wright walker white edwards hughes green hall lewis harris clarke clark patel jackson wood
    turner martin cooper hill ward morris moore lee king baker harrison morgan allen james scott
    phillips watson davis parker price bennett young griffiths mitchell kelly cook carter
    richardson bailey collins bell shaw murphy miller cox richards khan marshall anderson simpson
    ellis adams singh begum ali ahmed hussain shah akhtar kaur okafor nowak kowalski
""")

# Words that put a name after them: relationships and roles.
_ROLE_WORDS = _words("""
    mum mom mam mummy mommy mother mum-to-be dad daddy father stepdad step-dad stepfather stepmum
    step-mum stepmother stepmom partner boyfriend girlfriend fiance fiancee husband wife ex
    son daughter stepson stepdaughter baby brother sister stepbrother stepsister half-brother
    half-sister sibling nan nana nanny gran granny grandma grandad granddad grandpa grandmother
    grandfather uncle aunt auntie aunty cousin niece nephew child boy girl teenager teen toddler
    lad man woman fella friend bestie mate neighbour carer twin youngest eldest oldest
""")
# After these, only a capitalised word or a known name: "her sons Tyreese and Kacey", not "kids play".
_PLURAL_ROLE_WORDS = _words("sons daughters brothers sisters cousins siblings twins kids children")
_RELATIONS = _ROLE_WORDS | _PLURAL_ROLE_WORDS
# Phrases after which a following word is a name even in lower case and even if unknown.
_NAMING_PHRASES = frozenset({("known", "as"), ("goes", "by"), ("aka",), ("calls", "himself"),
                             ("calls", "herself")})
# ...and after which only a capitalised word or a known name is: "her name is Kelly".
_NAME_IS_PHRASES = frozenset({("name", "is"), ("name", "was"), ("names", "are")})
_TITLES = _words("mr mrs ms miss mx")
# Who can be "called" something: "a boy called tyler", "her boyfriend is called jordan".
_PERSON_WORDS = _RELATIONS | _words("""
    someone somebody person guy bloke kid lady gentleman student pupil he she
""")

# Words kept whatever their position: agencies, roles, days, months, and other practitioner words.
_KEEP = _MONTH_NAMES | _words("""
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri
    sat sun jan feb mar apr jun jul aug sep sept oct nov dec
    early help children's childrens social care camhs gp mash health visitor school nurse dsl
    iro police nursery hospital housing probation education services service council team worker
    teacher head headteacher senco paediatrician paediatrics consultant midwife midwifery
    safeguarding ofsted nspcc barnardo's barnardos childline kooth refuge women's aid court cafcass
    judge magistrates solicitor foster carer carers manager supervisor officer practitioner
    therapist counsellor psychologist psychiatrist doctor registrar ambulance paramedics fire
    landlord landlady employer church mosque imam vicar priest pastor coach tutor mentor advocate
    keyworker caseworker receptionist governor chair panel board partnership conference strategy
    review plan protection need unit bank day centre clinic a&e scbu nicu ward yot pru yoi
    dwp hmrc universal credit benefits english british polish romanian muslim christian
    christmas easter eid ramadan diwali halloween god allah jesus national insurance nhs
    primary secondary academy college university year reception sw hv lado idva marac mara cin
    cp cse cce dv da ehcp send send sen snapchat instagram tiktok facebook twitter whatsapp
    youtube google amazon tesco asda aldi lidl covid prevent channel shelter trust authority
    local lead designated operation encompass compass threshold signs safety
    white black asian mixed irish roma traveller gypsy african caribbean pakistani bangladeshi
    indian chinese arab kurdish somali eritrean afghan syrian lithuanian latvian slovak czech
    bulgarian albanian vietnamese nigerian ghanaian zimbabwean jamaican scottish welsh catholic
    jewish sikh hindu buddhist
""")

# Words that follow "mum", "her son", "called" etc. and are not names. Beside function words this
# is the vocabulary of case talk: "mum rang", "dad drinks", "the baby cried", "called back".
_COMMON = _words("""
    a an the and or but nor so yet if then than that this these those there here where when why
    how what which who whom whose while whilst as at by for from in into of off on onto out over
    to up down with without within about above after again against all also always am any are
    around away back be because been before being below between both can cannot could did do does
    doing done during each either else enough even ever every few first further had has have
    having he her hers herself him himself his i i'm i've i'd its it it's itself just last least
    less like many me more most much must my myself never new next no not now once only other our
    ours out own same she she's should since some still such sure their theirs them themselves
    they they're though through thus too under until very was we were well what's whether will
    would you your yours yourself he's they've we're you're isn't wasn't aren't weren't hasn't
    haven't hadn't doesn't didn't don't won't wouldn't can't couldn't shouldn't mustn't shan't
    it'd he'd she'd they'd he'll she'll they'll may might shall ok okay yes yeah nah nope x xx
    etc via per cos coz cause because however although though unless till til whereas whereby
    is was were be am are been get gets got gotten getting go goes went gone going come comes came
    coming say says said saying tell tells told telling ask asks asked see sees saw seen seeing
    know knows knew known think thinks thought feel feels felt want wants wanted need needs needed
    seem seems seemed look looks looked make makes made take takes took taken give gives gave given
    let lets put puts keep keeps kept leave leaves left stay stays stayed live lives lived move
    moves moved turn turns turned try tries tried call calls rang ring rings text texts hit hits
    hurt hurts shout shouts yell kick kicks slap slaps smack smacks push pushes grab grabs punch
    drink drinks drank drunk smoke smokes smoked use uses used sleep sleeps slept wake woke sit
    sat stand stood run ran walk fell fall falls broke break breaks spoke speak speaks wrote write
    writes sent send sends lost lose loses paid pay pays met meet meets cut cuts set sets threw
    throw drove drive drives bought buy brought bring brings caught catch fought fight swore swear
    hid hide held hold heard hear hears left meant mean means found find finds began begin
    refused refuses denied denies disclosed discloses agreed agrees admitted admits reported reports
    attended attends arrived arrives cried cries screamed screams died dies shared shares
    asleep awake sleepy hungry thirsty content cold warm hot wet dirty smelly floppy limp pale
    quiet grizzly poorly sick ill well fine happy sad upset scared frightened bruised sore thin

    showed shows started starts stopped stops tried works worked working lied lies lie
    being having making taking doing saying going coming getting trying living staying
    today tonight tomorrow yesterday now then later soon already recently currently usually often
    sometimes never always still just really quite very too also only even almost nearly perhaps
    maybe probably definitely apparently clearly obviously actually honestly basically literally
    again together alone home here there away back out in up down around inside outside
    upstairs downstairs anywhere everywhere nowhere somewhere
    ok fine good bad better worse well ill poorly unwell sick upset angry cross sad happy tired
    drunk high low quiet loud present absent unknown unborn involved aware worried scared
    frightened anxious pregnant due late early young old older oldest younger youngest little
    big small new same other whole own real main only full half step
    mum's dad's child's baby's boy's girl's
    protection care bank unit monitor seat milk food formula bottle group minded minder minding
    benefit benefits maintenance abuse sexual criminal exploitation development trafficking
    centre clinic health friend friends talk stuff things thing house flat room bed cot clothes
    nappy nappies school nursery birth name names number age aged years months weeks days year
    month week day time times bit lot lots kind sort contact arrangements visit visits issue
    issues problem problems situation case family families side involvement support needs
    behaviour history records record cards card account phone mobile car work job money rent
    someone somebody anyone anybody everyone everybody nobody none noone something anything
    everything nothing one two three four five six seven eight nine ten both either neither
    each another such own whom whose self
    she he they we you it i him her them us me
    who's that's there's here's where's how's
    n & y
""") | _words("""
    near nearby beside behind opposite past across along toward towards round upon among amongst
    beyond despite except unlike underneath throughout alongside next via
    born adopted fostered placed raised named called
    hasnt cant dont wont isnt didnt doesnt wasnt werent arent couldnt wouldnt shouldnt havent
    im ive id youre theyre thats whats hes shes theres
    tho thru prob probs def defo obvs tbh atm idk lol omg ffs innit pls plz thx ur u r wiv gonna
    wanna gotta kinda sorta bc cuz wk hrs mins yr yrs
    became become chose chosen won tore wore hung sang swam shook stole fled grew blew bit spat
    sought taught dealt spent lent built burnt burned forgot forgotten understood sold fed led
    knelt slid stuck struck sank sunk swung wept
    suicidal mental physical verbal emotional sexual criminal medical legal illegal normal
    violent resistant reluctant compliant evasive hostile volatile fragile calm sober clean dead
    alive deaf blind mute honest open vulnerable dismissive unemployed homeless disabled
    duty family parents staff children kids adults people police everyone somebody
    home visit visited way play plays played scan massage gate walker bath sling box blues tax
    poverty death guilt agency agencies organisation organisations request dispute allowance
    racer minder minders shower sitter sitting sitters grooming
    weight hygiene routine mood speech alcohol neglect drift cannabis heroin cocaine weed crack
    spice gambling debt conflict violence attendance engagement progress dinner breakfast lunch
""")

# Verbs whose subject is a person: "Will said", "Tyreese told", "Deacon kicked".
_PERSON_VERBS = _words("""
    said says told tells disclosed discloses asked asks explained explains stated states admitted
    admits denied denies shouted screamed cried cries ran went came reported mentioned shared
    replied answered refused refuses wants wanted keeps kept hit hits kicked kicks punched punches
    threw throws bit bites smacked slapped loves hates misses sleeps slept wet wets soiled
""")
_SUBJECT_VERBS = _PERSON_VERBS | _words("""
    is was has had hasn't isn't wasn't doesn't didn't won't can't lives lived stays stayed seems
    seemed looks looked goes gets got keeps kept
""")

# Words after which a capitalised unknown word is a person: "asked Ezekiel", "worried about Zion".
_PERSON_OBJECT_WORDS = _words("asked saw seen told met visited about with")
_PERSON_OBJECT_PHRASES = frozenset(
    (verb, "to") for verb in _words("spoke spoken talked talking speak speaking said explained disclosed")
)
_DETERMINERS = _words("the a an this that these those our your their its my")

_TOKEN = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.I)
_TRIGGER_GAP = re.compile(r"[ \t]*[,:(]?[ \t]*|[ \t]+[-–][ \t]+")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n\"“”]|(?:^|\s)[-–•*]\s*$")


class _Token:
    """One word of the text and what the name rules ask of it, worked out once."""

    __slots__ = ("start", "end", "word", "full_end", "gap", "first", "low", "possessive", "capitalised",
                 "shouting")

    def __init__(self, start: int, end: int, word: str, full_end: int, gap: str, first: bool):
        self.start = start  # of the bare word, without a possessive 's
        self.end = end
        self.word = word  # without a possessive 's
        self.full_end = full_end
        self.gap = gap  # the text between the previous token and this one
        self.first = first  # first token of a sentence
        self.low = word.lower()
        self.possessive = end != full_end
        self.shouting = word.isupper()
        self.capitalised = word[0].isupper() and not self.shouting


_PLACEHOLDER = re.compile(
    r"\[(?:NHS number|postcode|phone number|email|NI number|date of birth|address|social media"
    r"|name)\]"
)


def _tokens(text: str) -> list[_Token]:
    # Already-redacted text ("baby [name] was asleep") must not read as "name was asleep".
    text = _PLACEHOLDER.sub(lambda m: "#" * len(m.group()), text)
    tokens: list[_Token] = []
    previous_end = 0
    for m in _TOKEN.finditer(text):
        word = m.group()
        bare = _POSSESSIVE.sub("", word) if len(word) > 2 else word
        gap = text[previous_end:m.start()]
        first = not tokens or bool(_SENTENCE_BREAK.search(gap))
        tokens.append(_Token(m.start(), m.start() + len(bare), bare, m.end(), gap, first))
        previous_end = m.end()
    return tokens


def _looks_like_lower_name(word: str) -> bool:
    """An unknown lower-case word in a name slot: "jayden" yes, "currently", "shouted" no."""
    return (
        len(word) >= 3
        and word.isalpha()
        and not re.search(r"(?:ly|ing|ed|ness|ment|tion|sion|ful|less|ous|ive|able|ible|s)$", word)
    )


def _name_in_slot(token: _Token) -> bool:
    """Is the word that follows "mum", "her son", "called"... a name?"""
    low = token.low
    if len(token.word) < 2 or token.shouting:  # "Mum (K)", "child A", "dad (KS)"
        return False
    if low in _RELATIONS or low in _KEEP:
        return False
    if token.capitalised:  # "mum Kelly", "known as Smiley"; not "Mum Present", "Baby Weighed"
        return low in _NAMES or (low not in _COMMON and not re.search(r"(?:ed|ing|ly)$", low))
    if low in _COMMON:
        return False
    if low in _NAMES:
        return True
    return _looks_like_lower_name(low)


def _extend_name(tokens: list[_Token], i: int) -> int:
    """Index of the last token of the name starting at tokens[i] (adds surnames / middle names)."""
    j = i
    while j + 1 < len(tokens) and j - i < 2 and not tokens[j].possessive:
        nxt = tokens[j + 1]
        if nxt.gap != " " or nxt.shouting:
            break
        low = nxt.low
        if nxt.capitalised and low not in _KEEP and low not in _RELATIONS and (
            low in _NAMES or low in _SURNAMES or low not in _COMMON
        ):
            j += 1
        elif not nxt.capitalised and low in _SURNAMES and low not in _COMMON:
            j += 1
        else:
            break
    return j


def _known_or_capitalised(token: _Token) -> bool:
    return token.capitalised or (token.low in _NAMES and token.low not in _COMMON)


def _ends_with(lows: list[str], i: int, phrases: frozenset[tuple[str, ...]]) -> bool:
    return any(tuple(lows[max(0, i - len(p) + 1):i + 1]) == p for p in _LAST_WORD[phrases].get(lows[i], ()))


_LAST_WORD = {phrases: {last: [p for p in phrases if p[-1] == last] for last in {p[-1] for p in phrases}}
              for phrases in (_NAMING_PHRASES, _NAME_IS_PHRASES)}


def _slots(tokens: list[_Token]) -> Iterator[int]:
    """Positions of the words that context marks as a name's place: "mum _", "a boy called _"."""
    lows = [t.low for t in tokens]
    for i, token in enumerate(tokens[:-1]):
        nxt, low = i + 1, lows[i]
        if not _TRIGGER_GAP.fullmatch(tokens[nxt].gap):
            continue
        if low in _PLURAL_ROLE_WORDS and not token.possessive:
            if _known_or_capitalised(tokens[nxt]):  # "her sons Tyreese and Kacey", not "kids play"
                yield nxt
        elif low in _ROLE_WORDS and not token.possessive:
            yield nxt
            # "the baby's father is Kane", "stepmum is Jade"
            after = nxt + 1
            if lows[nxt] in ("is", "was") and after < len(tokens) and tokens[after].gap == " ":
                if _known_or_capitalised(tokens[after]):
                    yield after
        elif low in _TITLES:
            yield nxt
        elif low in ("called", "named"):
            # "a boy called tyler", "her boyfriend is called jordan"; not "it's called drift".
            if any(w in _PERSON_WORDS for w in lows[max(0, i - 3):i]) or tokens[nxt].capitalised:
                yield nxt
        elif _ends_with(lows, i, _NAMING_PHRASES):
            yield nxt
        elif _ends_with(lows, i, _NAME_IS_PHRASES) or (low == "name" and token.possessive):
            if _known_or_capitalised(tokens[nxt]):  # "her name is Kelly", "his name's Tyreese"
                yield nxt


def _standalone_name(tokens: list[_Token], i: int) -> bool:
    """A name without a role word before it: "Kayleigh said", "I asked Mohammed", "Will said"."""
    token = tokens[i]
    low = token.low
    if len(low) < 2 or low in _KEEP or low in _RELATIONS:
        return False
    following = tokens[i + 1].low if i + 1 < len(tokens) and tokens[i + 1].gap == " " else ""
    if low in _GIVEN_NAMES:
        return token.capitalised or token.shouting or low not in _COMMON
    if token.capitalised and "-" in low and any(part in _GIVEN_NAMES for part in low.split("-")):
        return True  # "Lacey-Mae", "Tia-Rose"
    if low in _WORD_NAMES:
        if not token.capitalised:
            return False
        if low in _MONTH_NAMES:
            return following in _PERSON_VERBS and not token.possessive
        if not token.first and low not in _WORD_NAMES_NOT_MID_SENTENCE:
            return True
        return following in _SUBJECT_VERBS and not token.possessive
    if not (
        token.capitalised
        and not token.possessive
        and len(low) >= 3
        and low not in _COMMON
        and not re.search(r"(?:s|ed|ing|ly|ance|ence|ment|ness|tion|sion|ity)$", low)
    ):
        return False
    if i and not token.first and (
        tokens[i - 1].word[0].isupper() or tokens[i - 1].low in _DETERMINERS
    ):
        return False  # part of a longer proper noun ("the Local Authority"), or "the Trust"
    # An unknown capitalised word as the subject of "said", "told", "kicked"; in mid-sentence
    # also of "was", "has": "Mother stated Ezekiel was with nan".
    if following in _PERSON_VERBS or (not token.first and following in _SUBJECT_VERBS):
        return True
    # ...or as the person asked, seen, spoken to, worried about: "I'm worried about Ezekiel". Not
    # when the next word is capitalised too ("with Signs of Safety", "about Operation Encompass").
    if token.first or token.gap != " " or (i + 1 < len(tokens) and tokens[i + 1].word[0].isupper()):
        return False
    lows = [t.low for t in tokens[max(0, i - 2):i]]
    return bool(lows) and (lows[-1] in _PERSON_OBJECT_WORDS or tuple(lows) in _PERSON_OBJECT_PHRASES)


_AGE_AFTER = re.compile(r"\s*\(\s*\d{1,2}\s*(?:y/?o|yrs?|years?|y|m|months?)?\s*\)")


def _listed_with_age(text: str, tokens: list[_Token], i: int) -> bool:
    """Case-note style "Kacey (4)": a capitalised word followed by an age in brackets."""
    token = tokens[i]
    return (
        token.capitalised
        and not token.possessive
        and token.low not in _COMMON
        and token.low not in _KEEP
        and token.low not in _RELATIONS
        and bool(_AGE_AFTER.match(text, token.end))
    )


def _coordinated(tokens: list[_Token], named: set[int]) -> Iterator[int]:
    """The second of two names joined by "and" or "&": "dad Kyle and Tyreese", "Alesha & Keanu"."""
    for i, token in enumerate(tokens):
        if i in named or not token.capitalised or not _name_in_slot(token):
            continue
        after_and = (
            i >= 2 and i - 2 in named and tokens[i - 1].low == "and"
            and tokens[i - 1].gap == " " and token.gap == " "
        )
        after_ampersand = i >= 1 and i - 1 in named and token.gap.strip() == "&"
        if after_and or after_ampersand:
            yield i


def find_names(text: str) -> Iterator[Span]:
    tokens = _tokens(text)
    named: set[int] = set()
    for i in _slots(tokens):
        if i not in named and _name_in_slot(tokens[i]):
            named.update(range(i, _extend_name(tokens, i) + 1))
    for i in range(len(tokens)):
        if i not in named and (_standalone_name(tokens, i) or _listed_with_age(text, tokens, i)):
            named.update(range(i, _extend_name(tokens, i) + 1))
    for i in list(_coordinated(tokens, named)):
        named.update(range(i, _extend_name(tokens, i) + 1))
    # Merge runs of adjacent name tokens ("Gemma Lewis") into one span.
    for i in sorted(named):
        if i - 1 in named and tokens[i].gap == " " and not tokens[i - 1].possessive:
            continue
        j = i
        while j + 1 in named and tokens[j + 1].gap == " " and not tokens[j].possessive:
            j += 1
        yield Span(tokens[i].start, tokens[j].end, NAME)


# --------------------------------------------------------------------------------------------------
# Putting it together.
# --------------------------------------------------------------------------------------------------

Detector = Callable[[str], Iterable[Span]]

# Order breaks ties between overlapping spans of equal length: earlier wins.
DETECTORS: tuple[Detector, ...] = (
    find_emails,
    find_social_media,
    find_nhs_numbers,
    find_ni_numbers,
    find_dates_of_birth,
    find_phone_numbers,
    find_postcodes,
    find_addresses,
    find_names,
)


def _resolve(candidates: list[tuple[int, Span]]) -> list[Span]:
    """Drop overlapping spans: the longest wins, then the earlier detector, then the earlier start."""
    chosen: list[Span] = []
    for _, span in sorted(candidates, key=lambda c: (c[1].start - c[1].end, c[0], c[1].start)):
        if all(span.end <= kept.start or span.start >= kept.end for kept in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def redact(text: str) -> Redacted:
    """Replace every identifying span of ``text`` with its kind in brackets, e.g. ``[postcode]``."""
    candidates = [
        (rank, span)
        for rank, detector in enumerate(DETECTORS)
        for span in detector(text)
        if span.end > span.start
    ]
    spans = _resolve(candidates)
    out = text
    for span in reversed(spans):
        out = out[: span.start] + f"[{span.kind}]" + out[span.end :]
    return Redacted(out, tuple(spans))


# ---- measuring -----------------------------------------------------------------------------------

def _covered(text: str, gold: dict, spans: tuple[Span, ...]) -> bool:
    """Every non-space character of the gold span lies inside a predicted span of the same kind."""
    return all(
        any(s.kind == gold["kind"] and s.start <= i < s.end for s in spans)
        for i in range(gold["start"], gold["end"])
        if not text[i].isspace()
    )


def _keep_survives(text: str, word: str, spans: tuple[Span, ...]) -> bool:
    """No occurrence of the word overlaps a redacted span."""
    return all(
        not any(s.start < m.end() and m.start() < s.end for s in spans)
        for m in re.finditer(re.escape(word), text)
    )


def score(rows: list[dict]) -> tuple[dict, dict, list[str]]:
    """Score redaction on labelled rows ({"text", "spans": [{"start", "end", "kind"}], "keep": [...]}):
    the share of each kind's spans found, the words that had to survive and did, and each miss."""
    found: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    keep = {"kept": 0, "total": 0}
    problems: list[str] = []
    for row in rows:
        text = row["text"]
        result = redact(text)
        for gold in row["spans"]:
            total[gold["kind"]] += 1
            if _covered(text, gold, result.spans):
                found[gold["kind"]] += 1
            else:
                problems.append(f"missed {gold['kind']} {text[gold['start']:gold['end']]!r}: {result.text}")
        for word in row["keep"]:
            keep["total"] += 1
            if _keep_survives(text, word, result.spans):
                keep["kept"] += 1
            else:
                problems.append(f"lost {word!r}: {result.text}")
    rates = {kind: found[kind] / total[kind] for kind in sorted(total)}
    return rates, keep, problems
