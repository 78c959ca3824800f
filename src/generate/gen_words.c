/* SPDX-License-Identifier: Apache-2.0 */
/* gen_words.c - the built-in word lists the generator composes names,
 * places, user agents, artists and titles from. */
#include "fmacros.h"

#include "lake_common.h"
#include "generate.h"
#include "lake_internal.h"

#define WORDS(name, ...)                                                       \
    static const char *const name##_w[] = {__VA_ARGS__};                       \
    const lake_gen_words name = {name##_w, LAKE_ARRAY_LEN(name##_w)}

/* The lists stay packed. */
/* clang-format off */
WORDS(lake_gen_first_f, "Amelia", "Brooke", "Chloe", "Dana", "Ella", "Faith",
      "Grace", "Hannah", "Isla", "Jasmine", "Kayla", "Lauren", "Maya",
      "Nora", "Olivia", "Paige", "Quinn", "Rachel", "Sophie", "Tessa",
      "Uma", "Violet", "Wendy", "Ximena", "Yvonne", "Zoe", "Abigail",
      "Bianca", "Camila", "Delaney", "Emery", "Fiona", "Gabriela", "Harper",
      "Iris", "Jocelyn", "Kennedy", "Lila", "Madison", "Natalie", "Piper",
      "Riley", "Savannah", "Taylor", "Valerie", "Willow");
WORDS(lake_gen_first_m, "Aaron", "Blake", "Caleb", "Dylan", "Elijah",
      "Felix", "Gavin", "Henry", "Isaac", "Jordan", "Kevin", "Logan",
      "Mason", "Nathan", "Owen", "Parker", "Reid", "Samuel", "Tyler",
      "Victor", "Wyatt", "Xavier", "Adrian", "Brandon", "Carter", "Declan",
      "Ethan", "Franklin", "Grant", "Hudson", "Ivan", "Julian", "Kyle",
      "Lucas", "Marcus", "Noah", "Oscar", "Preston", "Ryan", "Spencer",
      "Trent", "Wesley");
WORDS(lake_gen_last, "Adams", "Bennett", "Carlson", "Dawson", "Ellison",
      "Fletcher", "Garrison", "Holloway", "Ingram", "Jennings", "Kirkland",
      "Lawson", "Mercer", "Norwood", "Oakley", "Pruitt", "Quinlan",
      "Randall", "Sheridan", "Thornton", "Underwood", "Vaughn", "Whitaker",
      "Yates", "Abbott", "Barrett", "Conway", "Donovan", "Everett", "Farley",
      "Gaines", "Harmon", "Irwin", "Kendall", "Lindsey", "Maddox", "Nolan",
      "Osborne", "Pittman", "Ramsey", "Sutton", "Tanner", "Walters",
      "Weston", "Baxter", "Crosby", "Delgado", "Estrada", "Fuentes",
      "Guzman", "Herrera", "Ibarra", "Navarro", "Ortega", "Salazar",
      "Valdez");
WORDS(lake_gen_cities, "Springfield", "Riverton", "Fairview", "Greenville",
      "Madison", "Georgetown", "Salem", "Franklin", "Clinton", "Arlington",
      "Ashland", "Burlington", "Manchester", "Oxford", "Dover", "Milton",
      "Newport", "Auburn", "Bristol", "Kingston", "Lexington", "Marion",
      "Jackson", "Hudson", "Winchester", "Lakewood", "Bloomington",
      "Columbia", "Dayton", "Eugene", "Fresno", "Glendale", "Hayward",
      "Irvine", "Joliet", "Kenosha", "Lansing", "Modesto", "Norman",
      "Ogden", "Peoria", "Quincy", "Reno", "Sandy Springs", "Tempe",
      "Utica", "Vallejo", "Waco", "Yakima", "Santa Clara", "St. Cloud",
      "Fort Collins", "Cedar Falls", "Lake Charles", "Palm Bay");
WORDS(lake_gen_states, "AL", "AZ", "CA", "CO", "CT", "FL", "GA", "IA", "IL",
      "IN", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "NC", "NJ", "NY",
      "OH", "OR", "PA", "SC", "TN", "TX", "UT", "VA", "WA", "WI", "NY-NJ-PA",
      "IL-IN-WI", "MD-DC-VA", "PA-NJ-DE-MD");
/* Browsers of 2014-2018; those with a comma get quoted like the logs. */
WORDS(lake_gen_agents,
      "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/36.0.1985.143 Safari/537.36",
      "Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/37.0.2062.103 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 "
      "(KHTML, like Gecko) Version/7.0.5 Safari/537.77.4",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10) AppleWebKit/600.1.8 "
      "(KHTML, like Gecko) Version/8.0 Safari/600.1.8",
      "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:32.0) Gecko/20100101 "
      "Firefox/32.0",
      "Mozilla/5.0 (Windows NT 6.1; rv:31.0) Gecko/20100101 Firefox/31.0",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:32.0) Gecko/20100101 "
      "Firefox/32.0",
      "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:31.0) Gecko/20100101 "
      "Firefox/31.0",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/36.0.1985.143 Safari/537.36",
      "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; "
      "Trident/6.0)",
      "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) "
      "AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 "
      "Safari/9537.53",
      "Mozilla/5.0 (iPad; CPU OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 "
      "(KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
      "like Gecko) Chrome/70.0.3538.77 Safari/537.36");
WORDS(lake_gen_title_words, "Love", "Night", "Heart", "Fire", "Dream",
      "River", "Summer", "Rain", "Blue", "Gold", "Midnight", "Highway",
      "Shadow", "Light", "Golden", "Broken", "Wild", "Silver", "Electric",
      "Lonely", "City", "Ocean", "Stars", "Morning", "Train", "Road", "Home",
      "Angel", "Ghost", "Paradise", "Thunder", "Sugar", "Velvet", "Window",
      "Mirror", "Garden", "Dancing", "Running", "Falling", "Burning",
      "Little", "Sweet", "Cold", "Kiss", "Song", "Girl", "Boy", "Baby",
      "Time", "Forever", "Tonight", "Yesterday", "Tomorrow", "Never",
      "Again", "Alone", "Together", "Free", "Young", "Old", "Money", "Soul",
      "Rock", "Dance", "Fever", "Storm", "Moon", "Sun", "Sky", "Sea", "Wind",
      "Echo", "Memory", "Secret", "Promise", "Letter", "Radio", "Satellite",
      "Hurricane", "Diamond", "Cherry", "Whiskey", "Honey", "Smoke",
      "Candle", "Island", "Desert", "Valley", "Mountain", "Bridge", "Street",
      "Avenue", "Station", "Machine", "Rebel", "Hero", "Stranger", "Lover",
      "Friend", "Brother", "Sister", "Mama", "Papa", "King", "Queen",
      "Kingdom", "Empire", "Revolution", "Freedom", "Glory", "Trouble",
      "Wonder", "Magic", "Mystery", "Rhythm", "Blues", "Groove", "Funk",
      "Disco", "Boogie", "Lullaby", "Serenade", "Anthem", "Ballad", "Hymn",
      "Prayer", "I", "You", "Me", "We", "My", "Your", "The", "A", "In", "On",
      "Of", "To", "For", "With", "Without", "Don't", "Can't", "Won't",
      "Let's", "Go", "Stay", "Come", "Back", "Down", "Up", "Away", "Over",
      "Under", "Inside", "Out", "Now", "Here", "There", "Everything",
      "Nothing", "Somebody", "Nobody", "Everybody", "Maybe", "Only", "Just",
      "Still", "Always", "More", "One", "Two", "Three", "Hundred", "Million",
      "99", "24/7", "Rock & Roll", "Hip Hop", "El", "La", "Mi", "Amor",
      "Corazon", "Noche", "Vida", "Sol");
WORDS(lake_gen_title_accented, "Caf\xc3\xa9", "Se\xc3\xb1orita",
      "Ma\xc3\xb1""ana", "Ni\xc3\xb1o", "D\xc3\xa9j\xc3\xa0", "Cr\xc3\xa8me",
      "Fianc\xc3\xa9""e", "Na\xc3\xafve", "R\xc3\xa9sum\xc3\xa9",
      "F\xc3\xbcr", "\xc3\x9c""ber", "K\xc3\xa4rlek", "Sm\xc3\xb6rg\xc3\xa5s",
      "Fa\xc3\xa7""ade", "No\xc3\xabl", "Coraz\xc3\xb3n", "Canci\xc3\xb3n",
      "M\xc3\xbasica", "S\xc3\xa3o", "Fran\xc3\xa7""aise", "\xc3\x89t\xc3\xa9",
      "L\xc3\xa1grimas", "Ac\xc3\xa1", "T\xc3\xba", "Bel\xc3\xa9m",
      "\xe6\x9d\xb1\xe4\xba\xac", "\xe5\xa4\x9c");
WORDS(lake_gen_title_suffix, " (Album Version)", " (Live)", " (Remix)",
      " (Radio Edit)", " (Acoustic)", " (LP Version)", " (Remastered)",
      " (Demo)", " (Extended Mix)", " (feat. MC Nova)", " - Live",
      " / Reprise");
WORDS(lake_gen_artist_words, "Black", "White", "Red", "Crimson", "Velvet",
      "Iron", "Crystal", "Electric", "Neon", "Atomic", "Lunar", "Solar",
      "Arctic", "Pacific", "Northern", "Southern", "Western", "Eastern",
      "Wolves", "Tigers", "Ravens", "Foxes", "Lions", "Sparrows", "Horses",
      "Pilots", "Sailors", "Kings", "Queens", "Saints", "Sinners",
      "Brothers", "Sisters", "Giants", "Machines", "Ghosts", "Shadows",
      "Rebels", "Strangers", "Lovers", "Dreamers", "Drifters", "Ramblers",
      "Tornado", "Avalanche", "Harbor", "Canyon", "Orchestra", "Quartet",
      "Trio", "Band", "Collective", "Project", "Society", "Club", "Crew",
      "Sound System", "Experience", "Revival", "Union", "Parade");
WORDS(lake_gen_artist_accented, "Bj\xc3\xb6rn", "J\xc3\xb6rg", "Ren\xc3\xa9",
      "Zo\xc3\xab", "Andr\xc3\xa9", "Jos\xc3\xa9", "Ra\xc3\xbal",
      "Sigur\xc3\xb0ur", "\xc3\x81lvaro", "Fran\xc3\xa7ois", "Mot\xc3\xb6rhead",
      "Bront\xc3\xab", "Ma\xc3\xaftre", "S\xc3\xb8ren", "\xc3\x85sa",
      "Do\xc3\xb1""a", "Bey\xc3\xa9", "C\xc3\xa9line");
WORDS(lake_gen_countries, "England", "Canada", "Sweden", "Germany", "France",
      "Brazil", "Mexico", "Australia", "Jamaica", "Ireland", "Scotland",
      "Japan", "Spain", "Italy", "Norway", "Iceland", "Nigeria", "Argentina");
/* clang-format on */
