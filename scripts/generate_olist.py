#!/usr/bin/env python3
"""Deterministic generator of synthetic data in the layout of the Olist Brazilian e-commerce export.

Writes the nine files of the Kaggle "Brazilian E-Commerce Public Dataset by Olist" under their
original names, with their exact headers and text format, filled with synthetic rows:

    python scripts/generate_olist.py --customers 3000 --seed 42 --out data/sample
    python scripts/generate_olist.py --orders 100000 --seed 7 --out /tmp/olist   # customers = orders / 1.044

or, from Python, ``generate(customers, seed, out_dir) -> {file name: data rows}``. The same
arguments always give byte-identical files (numpy ``default_rng`` streams keyed by seed and
component; ids are hex digests of random bytes). Everything is vectorized (numpy and pyarrow
compute), so a million customers take seconds, not minutes.

Customers live and die (Pareto/NBD, the "buy till you die" model; time unit: WEEKS). Each
customer_unique_id draws a purchase rate lambda ~ Gamma(shape r, rate alpha) and a dropout rate
mu ~ Gamma(shape s, rate beta). The first purchase (acquisition) follows the window's seasonality
(monthly growth, Black Friday, weekday and hour profile); from it the customer stays alive
tau ~ Exponential(mu) weeks and meanwhile, up to the end of the window (2018-09-03 24:00), buys
again as a Poisson process of rate lambda (repeat days uniform, time of day from the hour profile).
Defaults r = 0.4, alpha = 18, s = 1, beta = 0.5 (``--btyd-r --btyd-alpha --btyd-s --btyd-beta``,
recorded in GENERATED_WITH.json) are calibrated on the real export (96.9 % single buyers,
1.035 orders per customer, at most 17 orders among 96 k customers). Measured on 1,000,000
customers (seed 1): 96.85 % of customers place one order (96.97 % have one purchase day once
canceled/unavailable orders are left out), 2.48 % two, 0.41 % three, 0.26 % four or more;
1.0443 orders per customer (``orders_per_customer()`` computes the expectation, 1.0443, and
``--orders N`` uses it); the ten largest customers have 16-36 orders (the largest has ~18 at
100 k customers). Since customers drop out, BTYD models find P(alive) well below 1.

Only public lookups are reused from the real data: the category names and their English
translation, Brazilian state codes, city names, zip prefix ranges and approximate bounding boxes.
Sellers, products, customers, orders and reviews are synthetic.

Format and quirks of the real files that are reproduced on purpose (each on a small share of rows):
- Header fields quoted; in data rows a text field is quoted when it starts with a digit (so zip
  prefixes always, hex ids about 10/16 of the time) or holds a comma, quote or line break; numbers
  and timestamps are never quoted; nulls are empty unquoted fields.
- 32-hex-character ids, timestamps ``YYYY-MM-DD HH:MM:SS``, estimated delivery and review creation
  at 00:00:00, money with two decimals, zip prefixes as 5-character text with leading zeros.
- product_category_name_translation.csv starts with a UTF-8 BOM, has an unquoted header, CRLF line
  ends and no final line break; two categories used by products have no translation row.
- Products without category (~1.8 %, with empty name/description/photo fields) and a product
  without any measures; the columns keep the original spelling ``product_name_lenght``.
- A customer (customer_unique_id) gets a new customer_id for every order; the customers file has
  one row per order. ~97 % of customers buy once, a small loyal tail buys up to ~20-35 times
  (see the lifetimes above).
- Order statuses as in Olist (delivered ~97 %, shipped, canceled, unavailable, invoiced,
  processing, created, approved; each present at least once); approval/carrier/delivery
  timestamps null according to status, and a few delivered orders lack the delivery date or the
  approval timestamp. Unavailable and created orders (and a quarter of canceled ones) have no
  items but still have a payment.
- Payments: one row per order mostly, some split into 2-3 rows (vouchers, then a credit card);
  the sum equals items price + freight to the cent except ~1 % (card interest, one-cent
  rounding); a couple of canceled orders paid with ``not_defined`` value 0.00; at least one
  delivered order with items but no payment row.
- Reviews: ~0.8 % of orders without review, ~0.5 % with two reviews, review_ids reused on two
  orders of the same customer (same content), comments with commas, quotes and line breaks
  (``\\n`` and ``\\r\\n``) inside quoted fields; late and long deliveries score worse.
- Geolocation: a few points per zip prefix used by customers or sellers, inside the state's
  bounding box, some city names with accents, and a few coordinates outside Brazil.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root: package customer_segmentation

from customer_segmentation.data.olist import FILES  # noqa: E402  (table -> CSV file name, from the sources YAML)

# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------

# uf, customer weight (%), seller weight (%), zip prefix range [lo, hi), bounding box
# (lat_min, lat_max, lng_min, lng_max), capital (lat, lng), mean delivery days, cities (capital first)
STATES = [
    ("SP", 41.98, 59.7, (1000, 20000), (-25.3, -19.8, -53.1, -44.2), (-23.55, -46.63), 8.5,
     ["sao paulo", "campinas", "guarulhos", "sao bernardo do campo", "santo andre", "osasco",
      "sorocaba", "ribeirao preto", "sao jose dos campos", "santos", "jundiai", "piracicaba",
      "bauru", "franca", "mogi das cruzes"]),
    ("RJ", 12.92, 5.5, (20000, 29000), (-23.4, -20.8, -44.9, -41.0), (-22.91, -43.21), 15.0,
     ["rio de janeiro", "niteroi", "nova iguacu", "duque de caxias", "sao goncalo", "petropolis",
      "campos dos goytacazes", "volta redonda"]),
    ("MG", 11.70, 7.9, (30000, 40000), (-22.9, -14.3, -51.0, -39.9), (-19.92, -43.94), 11.8,
     ["belo horizonte", "uberlandia", "contagem", "juiz de fora", "betim", "montes claros",
      "uberaba", "governador valadares", "ipatinga"]),
    ("RS", 5.50, 4.2, (90000, 100000), (-33.7, -27.1, -57.6, -49.8), (-30.03, -51.23), 15.0,
     ["porto alegre", "caxias do sul", "canoas", "pelotas", "santa maria", "novo hamburgo",
      "gravatai"]),
    ("PR", 5.07, 11.3, (80000, 88000), (-26.7, -22.6, -54.6, -48.1), (-25.43, -49.27), 11.7,
     ["curitiba", "londrina", "maringa", "ponta grossa", "cascavel", "sao jose dos pinhais",
      "foz do iguacu"]),
    ("SC", 3.66, 6.1, (88000, 90000), (-29.3, -26.0, -53.8, -48.4), (-27.60, -48.55), 14.5,
     ["florianopolis", "joinville", "blumenau", "sao jose", "itajai", "chapeco", "criciuma"]),
    ("BA", 3.40, 0.6, (40000, 49000), (-18.3, -8.6, -46.6, -37.4), (-12.97, -38.50), 19.0,
     ["salvador", "feira de santana", "vitoria da conquista", "camacari", "itabuna",
      "lauro de freitas"]),
    ("DF", 2.15, 1.0, (70000, 72800), (-16.0, -15.5, -48.2, -47.4), (-15.79, -47.88), 12.5,
     ["brasilia", "taguatinga", "ceilandia", "aguas claras", "gama"]),
    ("ES", 2.04, 0.7, (29000, 30000), (-21.2, -18.0, -41.8, -39.7), (-20.32, -40.34), 15.3,
     ["vitoria", "vila velha", "serra", "cariacica", "cachoeiro de itapemirim", "linhares"]),
    ("GO", 2.03, 1.3, (74000, 76800), (-19.4, -12.5, -53.2, -46.0), (-16.69, -49.26), 15.2,
     ["goiania", "aparecida de goiania", "anapolis", "rio verde", "luziania"]),
    ("PE", 1.66, 0.3, (50000, 57000), (-9.4, -7.3, -41.3, -34.9), (-8.05, -34.88), 18.0,
     ["recife", "jaboatao dos guararapes", "olinda", "caruaru", "petrolina", "paulista"]),
    ("CE", 1.34, 0.4, (60000, 64000), (-7.8, -2.8, -41.4, -37.3), (-3.73, -38.52), 20.8,
     ["fortaleza", "caucaia", "juazeiro do norte", "maracanau", "sobral"]),
    ("PA", 0.98, 0.03, (66000, 68900), (-9.8, 2.5, -58.8, -46.1), (-1.46, -48.50), 23.3,
     ["belem", "ananindeua", "santarem", "maraba", "castanhal"]),
    ("MT", 0.91, 0.1, (78000, 78900), (-18.0, -7.4, -61.6, -50.3), (-15.60, -56.10), 17.6,
     ["cuiaba", "varzea grande", "rondonopolis", "sinop", "tangara da serra"]),
    ("MA", 0.75, 0.03, (65000, 66000), (-10.2, -1.1, -48.7, -41.9), (-2.53, -44.30), 21.1,
     ["sao luis", "imperatriz", "sao jose de ribamar", "timon", "caxias"]),
    ("MS", 0.72, 0.2, (79000, 80000), (-24.0, -17.3, -58.1, -51.0), (-20.47, -54.62), 15.2,
     ["campo grande", "dourados", "tres lagoas", "corumba"]),
    ("PB", 0.54, 0.2, (58000, 59000), (-8.2, -6.1, -38.7, -34.9), (-7.12, -34.86), 20.0,
     ["joao pessoa", "campina grande", "santa rita", "patos"]),
    ("PI", 0.50, 0.03, (64000, 65000), (-10.8, -2.8, -45.8, -40.4), (-5.09, -42.80), 19.0,
     ["teresina", "parnaiba", "picos", "piripiri"]),
    ("RN", 0.49, 0.2, (59000, 60000), (-6.9, -4.9, -38.5, -35.0), (-5.79, -35.21), 19.0,
     ["natal", "mossoro", "parnamirim", "caico"]),
    ("AL", 0.42, 0.03, (57000, 58000), (-10.4, -8.9, -38.2, -35.2), (-9.67, -35.74), 24.0,
     ["maceio", "arapiraca", "rio largo", "palmeira dos indios"]),
    ("SE", 0.35, 0.1, (49000, 50000), (-11.5, -9.6, -38.2, -36.5), (-10.91, -37.07), 21.0,
     ["aracaju", "nossa senhora do socorro", "lagarto", "itabaiana"]),
    ("TO", 0.28, 0.03, (77000, 78000), (-13.4, -5.2, -50.7, -45.8), (-10.25, -48.32), 17.0,
     ["palmas", "araguaina", "gurupi", "porto nacional"]),
    ("RO", 0.25, 0.1, (76800, 77000), (-13.6, -8.0, -66.7, -59.8), (-8.76, -63.90), 19.0,
     ["porto velho", "ji-parana", "ariquemes", "vilhena"]),
    ("AM", 0.15, 0.03, (69000, 69300), (-9.8, 2.2, -73.7, -56.2), (-3.12, -60.02), 26.0,
     ["manaus", "parintins", "itacoatiara", "manacapuru"]),
    ("AC", 0.08, 0.03, (69900, 70000), (-11.1, -7.2, -73.9, -66.7), (-9.97, -67.81), 21.0,
     ["rio branco", "cruzeiro do sul", "sena madureira"]),
    ("AP", 0.07, 0.02, (68900, 69000), (-1.2, 4.4, -54.8, -49.9), (0.03, -51.07), 27.0,
     ["macapa", "santana", "laranjal do jari"]),
    ("RR", 0.05, 0.02, (69300, 69400), (-1.5, 5.2, -64.8, -58.9), (2.82, -60.67), 29.0,
     ["boa vista", "rorainopolis", "caracarai"]),
]

# City names spelled with accents in a share of geolocation rows (as in the real table).
ACCENTED_CITY = {
    "sao paulo": "são paulo", "brasilia": "brasília", "goiania": "goiânia", "belem": "belém",
    "florianopolis": "florianópolis", "vitoria": "vitória", "maceio": "maceió",
    "joao pessoa": "joão pessoa", "sao luis": "são luís", "cuiaba": "cuiabá", "macapa": "macapá",
    "niteroi": "niterói", "uberlandia": "uberlândia", "maringa": "maringá",
}

# Portuguese category, English translation (None: no translation row), share of items (per mille),
# median item price (BRL). Names and translations are the public Olist lookup.
CATEGORIES = [
    ("cama_mesa_banho", "bed_bath_table", 98.7, 79), ("beleza_saude", "health_beauty", 85.8, 80),
    ("esporte_lazer", "sports_leisure", 76.7, 78), ("moveis_decoracao", "furniture_decor", 74.0, 65),
    ("informatica_acessorios", "computers_accessories", 69.5, 82),
    ("utilidades_domesticas", "housewares", 61.8, 60),
    ("relogios_presentes", "watches_gifts", 53.2, 129), ("telefonia", "telephony", 40.3, 30),
    ("ferramentas_jardim", "garden_tools", 38.6, 60), ("automotivo", "auto", 37.6, 85),
    ("brinquedos", "toys", 36.5, 80), ("cool_stuff", "cool_stuff", 33.7, 130),
    ("perfumaria", "perfumery", 30.4, 85), ("bebes", "baby", 27.2, 78),
    ("eletronicos", "electronics", 24.6, 22), ("papelaria", "stationery", 22.3, 79),
    ("fashion_bolsas_e_acessorios", "fashion_bags_accessories", 18.0, 49),
    ("pet_shop", "pet_shop", 17.3, 90), ("moveis_escritorio", "office_furniture", 15.0, 145),
    ("consoles_games", "consoles_games", 10.1, 59), ("malas_acessorios", "luggage_accessories", 9.7, 100),
    ("construcao_ferramentas_construcao", "construction_tools_construction", 8.2, 89),
    ("eletrodomesticos", "home_appliances", 6.8, 48),
    ("instrumentos_musicais", "musical_instruments", 6.0, 95),
    ("eletroportateis", "small_appliances", 6.0, 99), ("casa_construcao", "home_construction", 5.4, 95),
    ("livros_interesse_geral", "books_general_interest", 4.9, 45), ("alimentos", "food", 4.5, 49),
    ("moveis_sala", "furniture_living_room", 4.5, 104), ("casa_conforto", "home_confort", 3.9, 90),
    ("bebidas", "drinks", 3.4, 47), ("audio", "audio", 3.2, 89), ("market_place", "market_place", 2.8, 63),
    ("construcao_ferramentas_iluminacao", "construction_tools_lights", 2.7, 105),
    ("climatizacao", "air_conditioning", 2.6, 140),
    ("moveis_cozinha_area_de_servico_jantar_e_jardim", "kitchen_dining_laundry_garden_furniture", 2.5, 110),
    ("alimentos_bebidas", "food_drink", 2.5, 39),
    ("industria_comercio_e_negocios", "industry_commerce_and_business", 2.4, 103),
    ("livros_tecnicos", "books_technical", 2.4, 57), ("telefonia_fixa", "fixed_telephony", 2.3, 64),
    ("fashion_calcados", "fashion_shoes", 2.3, 77),
    ("construcao_ferramentas_jardim", "costruction_tools_garden", 2.1, 49),
    ("eletrodomesticos_2", "home_appliances_2", 2.1, 226),
    ("agro_industria_e_comercio", "agro_industry_and_commerce", 1.9, 259), ("artes", "art", 1.9, 98),
    ("pcs", "computers", 1.8, 1100), ("sinalizacao_e_seguranca", "signaling_and_security", 1.8, 75),
    ("construcao_ferramentas_seguranca", "construction_tools_safety", 1.7, 126),
    ("artigos_de_natal", "christmas_supplies", 1.4, 45),
    ("fashion_roupa_masculina", "fashion_male_clothing", 1.2, 60),
    ("fashion_underwear_e_moda_praia", "fashion_underwear_beach", 1.2, 60),
    ("moveis_quarto", "furniture_bedroom", 1.0, 179),
    ("construcao_ferramentas_ferramentas", "costruction_tools_tools", 0.9, 60),
    ("tablets_impressao_imagem", "tablets_printing_image", 0.7, 99),
    ("portateis_casa_forno_e_cafe", "small_appliances_home_oven_and_coffee", 0.7, 587),
    ("cine_foto", "cine_photo", 0.6, 73), ("dvds_blu_ray", "dvds_blu_ray", 0.6, 20),
    ("livros_importados", "books_imported", 0.5, 63),
    ("fashion_roupa_feminina", "fashio_female_clothing", 0.4, 49),
    ("artigos_de_festas", "party_supplies", 0.4, 68), ("fraldas_higiene", "diapers_and_hygiene", 0.3, 37),
    ("moveis_colchao_e_estofado", "furniture_mattress_and_upholstery", 0.3, 85),
    ("musica", "music", 0.3, 55), ("flores", "flowers", 0.3, 26), ("casa_conforto_2", "home_comfort_2", 0.3, 13),
    ("fashion_esporte", "fashion_sport", 0.3, 60), ("artes_e_artesanato", "arts_and_craftmanship", 0.2, 45),
    ("portateis_cozinha_e_preparadores_de_alimentos", None, 0.4, 35),
    ("cds_dvds_musicais", "cds_dvds_musicals", 0.1, 45), ("la_cuisine", "la_cuisine", 0.1, 137),
    ("pc_gamer", None, 0.3, 130), ("fashion_roupa_infanto_juvenil", "fashion_childrens_clothes", 0.1, 70),
    ("seguros_e_servicos", "security_and_services", 0.05, 142),
]
# Order of the translation file rows (as in the public lookup file).
TRANSLATION_ORDER = [
    "beleza_saude", "informatica_acessorios", "automotivo", "cama_mesa_banho", "moveis_decoracao",
    "esporte_lazer", "perfumaria", "utilidades_domesticas", "telefonia", "relogios_presentes",
    "alimentos_bebidas", "bebes", "papelaria", "tablets_impressao_imagem", "brinquedos",
    "telefonia_fixa", "ferramentas_jardim", "fashion_bolsas_e_acessorios", "eletroportateis",
    "consoles_games", "audio", "fashion_calcados", "cool_stuff", "malas_acessorios", "climatizacao",
    "construcao_ferramentas_construcao", "moveis_cozinha_area_de_servico_jantar_e_jardim",
    "construcao_ferramentas_jardim", "fashion_roupa_masculina", "pet_shop", "moveis_escritorio",
    "market_place", "eletronicos", "eletrodomesticos", "artigos_de_festas", "casa_conforto",
    "construcao_ferramentas_ferramentas", "agro_industria_e_comercio", "moveis_colchao_e_estofado",
    "livros_tecnicos", "casa_construcao", "instrumentos_musicais", "moveis_sala",
    "construcao_ferramentas_iluminacao", "industria_comercio_e_negocios", "alimentos", "artes",
    "moveis_quarto", "livros_interesse_geral", "construcao_ferramentas_seguranca",
    "fashion_underwear_e_moda_praia", "fashion_esporte", "sinalizacao_e_seguranca", "pcs",
    "artigos_de_natal", "fashion_roupa_feminina", "eletrodomesticos_2", "livros_importados",
    "bebidas", "cine_foto", "la_cuisine", "musica", "casa_conforto_2", "portateis_casa_forno_e_cafe",
    "cds_dvds_musicais", "dvds_blu_ray", "flores", "artes_e_artesanato", "fraldas_higiene",
    "fashion_roupa_infanto_juvenil", "seguros_e_servicos",
]
PRODUCTS_WITHOUT_CATEGORY = 0.0185

# Purchase window and seasonality.
FIRST_DAY = np.datetime64("2016-09-04")
LAST_DAY = np.datetime64("2018-09-03")
MONTH_WEIGHTS = {  # relative order volume per month
    "2016-09": 4, "2016-10": 320, "2016-11": 2, "2016-12": 2,
    "2017-01": 800, "2017-02": 1780, "2017-03": 2680, "2017-04": 2400, "2017-05": 3700,
    "2017-06": 3250, "2017-07": 4030, "2017-08": 4330, "2017-09": 4290, "2017-10": 4630,
    "2017-11": 5900, "2017-12": 5670, "2018-01": 7270, "2018-02": 6730, "2018-03": 7210,
    "2018-04": 6940, "2018-05": 6870, "2018-06": 6170, "2018-07": 6290, "2018-08": 6510,
    "2018-09": 16,
}
DAY_BUMPS = {"2017-11-24": 5.0, "2017-11-25": 1.8, "2017-11-26": 1.8, "2017-11-27": 1.8}  # Black Friday
WEEKDAY_WEIGHTS = [162, 162, 156, 155, 140, 104, 122]  # Monday .. Sunday
HOUR_WEIGHTS = [26, 12, 6, 3, 2, 1, 6, 12, 29, 45, 61, 67, 60, 63, 71, 67, 63, 62, 59, 60, 62, 63, 56, 42]

# Customer lifetimes: Pareto/NBD ("buy till you die"), rates per WEEK. Every customer draws a
# purchase rate lambda ~ Gamma(shape r, rate alpha) and a dropout rate mu ~ Gamma(shape s, rate
# beta); after the first purchase (the acquisition, drawn with the seasonality above) the customer
# stays alive for tau ~ Exponential(mu) weeks and, while alive and before the end of the window,
# buys again as a Poisson process of rate lambda. Calibrated to the real export (96.9 % of
# customer_unique_id buy once, 1.035 orders per customer, at most 17 orders among 96 k customers):
# mean lambda = r / alpha = 0.022 per week, half of the customers drop out within 3.5 days
# (survival beta / (beta + t) for s = 1), 5 % are still alive 10 weeks after their first order.
BTYD_DEFAULTS = {"r": 0.4, "alpha": 18.0, "s": 1.0, "beta": 0.5}
WEEK = 7 * 86_400
WINDOW_END = (LAST_DAY + 1).astype("datetime64[s]").astype(np.int64)  # end of the last day (epoch s)

ORDER_STATUSES = [("delivered", 0.9702), ("shipped", 0.0111), ("canceled", 0.0063),
                  ("unavailable", 0.0061), ("invoiced", 0.0032), ("processing", 0.0030),
                  ("created", 0.00005), ("approved", 0.00002)]
ITEMS_PER_ORDER = [0.9006, 0.0762, 0.0134, 0.0051, 0.0021, 0.0020, 0.0006]  # 1 .. 7 items

SELLERS_PER_ORDER = 0.031
PRODUCTS_PER_ORDER = 0.33

# Payment type of the (first) payment; split payments add voucher rows, see _payments.
PAYMENT_TYPES = ["credit_card", "boleto", "voucher", "debit_card"]
PRIMARY_PAYMENT_WEIGHTS = [0.765, 0.197, 0.022, 0.016]
INSTALLMENT_WEIGHTS = [0.34, 0.16, 0.135, 0.09, 0.07, 0.05, 0.02, 0.055, 0.008, 0.07, 0, 0.002]  # 1..12
SPLIT_PAYMENT_SHARE = 0.03

# Review score probabilities (1..5) of a satisfied and of a disappointed customer.
SCORES_GOOD = np.array([0.035, 0.020, 0.075, 0.210, 0.660])
SCORES_BAD = np.array([0.700, 0.110, 0.110, 0.040, 0.040])

POSITIVE_COMMENTS = [
    "Produto chegou antes do prazo, muito bom", "Recomendo a loja", "Ótimo produto",
    "Chegou bem embalado e dentro do prazo", "Excelente qualidade, recomendo",
    "Tudo certo com a compra", "Muito satisfeita com o produto", "Gostei muito, voltarei a comprar",
    "Entrega rápida, produto conforme o anúncio", "Produto de boa qualidade",
    "Superou minhas expectativas", "Bom custo benefício", "Perfeito, igual ao da foto",
]
NEUTRAL_COMMENTS = [
    "Produto ok", "Razoável, esperava mais", "A entrega demorou um pouco, mas chegou",
    "Bom, porém a embalagem veio amassada", "O produto é bom mas o acabamento deixa a desejar",
    "Chegou certo, nada demais", 'Veio escrito "original" na caixa, parece ser',
]
NEGATIVE_COMMENTS = [
    "Ainda não recebi o produto", "Produto veio com defeito", "Entrega atrasada, estou aguardando",
    "Recebi apenas um dos itens do pedido", "Não recomendo", "Péssimo atendimento",
    "O produto não corresponde à descrição, veio diferente", "Comprei dois, chegou só um",
    "Produto quebrado, quero devolver", "Prazo de entrega não foi cumprido",
]
COMMENT_TITLES = {
    "positive": ["Recomendo", "Ótimo", "Muito bom", "Excelente", "Super recomendo", "Bom"],
    "neutral": ["Regular", "Razoável", "Ok"],
    "negative": ["Ruim", "Péssimo", "Não recebi", "Decepcionado", "Produto errado"],
}

DAY = 86_400
HOUR = 3_600


# --------------------------------------------------------------------------------------------
# Small vectorized helpers
# --------------------------------------------------------------------------------------------

def _rng(seed: int, component: str) -> np.random.Generator:
    """An independent random stream per component, so that changing one table leaves the others."""
    return np.random.default_rng([seed, zlib.crc32(component.encode())])


def _hex_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """n random 32-hex-character ids, as a pyarrow string array (no per-row Python)."""
    data = rng.bytes(16 * n).hex().encode("ascii")
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _choice(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Indices drawn with probability proportional to weights."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=size, p=w / w.sum())


def _categorical_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows x k) probability matrix: returns indices 0..k-1."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1)


def _at_least(share: float, n: int, minimum: int) -> int:
    """How many of n rows get a quirk: share of n, but at least minimum (and at most n)."""
    return min(n, max(minimum, int(round(share * n))))


def _text(values) -> pa.Array:
    return pa.array(values, type=pa.string())


def _lookup(table, codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Strings of a small lookup table indexed by integer codes (null where mask)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, _text(table)).cast(pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    """Integer cents -> '123.45'."""
    cents = np.asarray(cents, dtype=np.int64)
    units = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(units, frac, ".")


def _int_text(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64), mask=mask), pa.string())


def _timestamps(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS' (null where mask)."""
    ts = pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s"), mask=mask)
    return pc.cast(ts, pa.string())


def _zip_text(zips: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(zips.astype(np.int64)), pa.string()), 5, "0")


# --------------------------------------------------------------------------------------------
# CSV writing in the Olist text format
# --------------------------------------------------------------------------------------------

def _quote_text(values: pa.Array) -> pa.Array:
    """Quote a text field when it starts with a digit or holds a quote, comma or line break."""
    values = pc.cast(values, pa.large_string())
    needs_quotes = pc.fill_null(pc.match_substring_regex(values, r'^[0-9]|[",\r\n]'), False)
    escaped = pc.replace_substring(values, '"', '""')
    quote, nothing = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    quoted = pc.binary_join_element_wise(quote, escaped, quote, nothing)
    return pc.if_else(needs_quotes, quoted, values)


def _write_csv(path: Path, columns: dict, text_columns: set, *, quote_header=True, eol="\n",
               bom=False, final_eol=True) -> int:
    """Write columns (name -> pyarrow string array) as CSV; returns the number of data rows.

    Columns in text_columns get the Olist quoting rule; the others (numbers, timestamps) are
    written as they are. Nulls become empty fields.
    """
    names = list(columns)
    fields = []
    for name in names:
        col = pc.cast(columns[name], pa.large_string())
        if name in text_columns:
            col = _quote_text(col)
        fields.append(pc.fill_null(col, ""))
    n_rows = len(fields[0])
    lines = pc.binary_join_element_wise(*fields, pa.scalar(",", pa.large_string()))
    lines = pc.binary_join_element_wise(lines, pa.scalar(eol, pa.large_string()),
                                        pa.scalar("", pa.large_string()))
    header = ",".join(f'"{n}"' if quote_header else n for n in names) + eol
    with open(path, "wb") as fh:
        fh.write(("\ufeff" if bom else "").encode() + header.encode())
        # The data buffer of the joined lines already is the file body: write it chunk by chunk
        # (pyarrow returns a ChunkedArray where an input was one, e.g. 10 M numpy strings).
        chunks = [c for c in (lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]) if len(c)]
        for i, chunk in enumerate(chunks):
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
            end = offsets[-1] - (0 if final_eol or i < len(chunks) - 1 else len(eol.encode()))
            fh.write(memoryview(chunk.buffers()[2])[offsets[0]:end])
    return n_rows


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------

class Geography:
    """Flattened city table: state, name, zip prefix block and center of every city."""

    def __init__(self):
        rng = np.random.default_rng(2016)  # the map is the same for every seed
        self.state_codes = [s[0] for s in STATES]
        self.customer_weights = np.array([s[1] for s in STATES])
        self.seller_weights = np.array([s[2] for s in STATES])
        self.delivery_days = np.array([s[6] for s in STATES])
        self.bbox = np.array([s[4] for s in STATES])
        names, states, zip_lo, zip_hi, lat, lng = [], [], [], [], [], []
        self.first_city = np.zeros(len(STATES), dtype=np.int64)
        self.n_cities = np.zeros(len(STATES), dtype=np.int64)
        for i, (_, _, _, (lo, hi), (la0, la1, ln0, ln1), capital, _, cities) in enumerate(STATES):
            self.first_city[i], self.n_cities[i] = len(names), len(cities)
            block = (hi - lo) // len(cities)
            for k, city in enumerate(cities):
                names.append(city)
                states.append(i)
                zip_lo.append(lo + k * block)
                zip_hi.append(hi if k == len(cities) - 1 else lo + (k + 1) * block)
                if k == 0:
                    center = capital
                else:  # somewhere inside the state's box, away from its edges
                    center = (rng.uniform(la0 + 0.1 * (la1 - la0), la1 - 0.1 * (la1 - la0)),
                              rng.uniform(ln0 + 0.1 * (ln1 - ln0), ln1 - 0.1 * (ln1 - ln0)))
                lat.append(center[0])
                lng.append(center[1])
        self.city_names = names
        self.city_names_accented = [ACCENTED_CITY.get(c, c) for c in names]
        self.city_state = np.array(states)
        self.zip_lo, self.zip_hi = np.array(zip_lo), np.array(zip_hi)
        self.city_lat, self.city_lng = np.array(lat), np.array(lng)

    def place(self, rng: np.random.Generator, state_weights: np.ndarray, n: int):
        """Draw n addresses: (state index, city index, zip prefix). Capitals get ~40 % of a state."""
        state = _choice(rng, state_weights, n)
        n_cities = self.n_cities[state]
        other = 1 + np.floor(rng.random(n) * (n_cities - 1)).astype(np.int64)
        city = self.first_city[state] + np.where(rng.random(n) < 0.4, 0, other)
        width = self.zip_hi[city] - self.zip_lo[city]
        zip_prefix = self.zip_lo[city] + np.floor(width * rng.random(n) ** 2).astype(np.int64)
        return state, city, zip_prefix


def _geolocation(rng: np.random.Generator, geo: Geography, zips: np.ndarray, cities: np.ndarray) -> dict:
    """A few points around each used zip prefix, inside the state's box; a few outside Brazil."""
    zips, first = np.unique(zips, return_index=True)
    city = cities[first]
    state = geo.city_state[city]
    box = geo.bbox[state]
    center_lat = np.clip(geo.city_lat[city] + rng.normal(0, 0.06, len(zips)), box[:, 0], box[:, 1])
    center_lng = np.clip(geo.city_lng[city] + rng.normal(0, 0.06, len(zips)), box[:, 2], box[:, 3])
    per_zip = np.minimum(1 + rng.poisson(1.6, len(zips)), 8)
    row_zip = np.repeat(np.arange(len(zips)), per_zip)
    n = len(row_zip)
    box = box[row_zip]
    lat = np.clip(center_lat[row_zip] + rng.normal(0, 0.008, n), box[:, 0], box[:, 1])
    lng = np.clip(center_lng[row_zip] + rng.normal(0, 0.008, n), box[:, 2], box[:, 3])
    abroad = rng.choice(n, size=_at_least(0.0003, n, 2), replace=False)
    lat[abroad] = rng.uniform(25, 45, len(abroad))  # Europe / North Atlantic
    lng[abroad] = rng.uniform(-30, 15, len(abroad))
    row_city = city[row_zip]
    accented = rng.random(n) < 0.06
    city_codes = np.where(accented, row_city + len(geo.city_names), row_city)
    return {
        "geolocation_zip_code_prefix": _zip_text(zips[row_zip]),
        "geolocation_lat": pc.cast(pa.array(lat), pa.string()),
        "geolocation_lng": pc.cast(pa.array(lng), pa.string()),
        "geolocation_city": _lookup(geo.city_names + geo.city_names_accented, city_codes),
        "geolocation_state": _lookup(geo.state_codes, state[row_zip]),
    }


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

def _day_weights() -> tuple[np.ndarray, np.ndarray]:
    """Days of the window (epoch seconds at 00:00) and their relative purchase volume."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1)
    months = days.astype("datetime64[M]").astype(str)
    month_w = np.array([MONTH_WEIGHTS[m] for m in months], dtype=float)
    _, month_index, days_in_window = np.unique(months, return_inverse=True, return_counts=True)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weights = month_w / days_in_window[month_index] * np.array(WEEKDAY_WEIGHTS)[weekday]
    for day, bump in DAY_BUMPS.items():
        weights[days == np.datetime64(day)] *= bump
    return days.astype("datetime64[s]").astype(np.int64), weights


def _purchase_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Purchase timestamps (epoch seconds): monthly growth, Black Friday, weekday and hour profile."""
    days, weights = _day_weights()
    day = days[_choice(rng, weights, n)]
    return day + _choice(rng, HOUR_WEIGHTS, n) * HOUR + rng.integers(0, HOUR, n)


def _check_btyd(r: float, alpha: float, s: float, beta: float) -> None:
    for name, value in {"r": r, "alpha": alpha, "s": s, "beta": beta}.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"btyd {name} must be a positive number, got {value!r}")


def _lifetimes(rng: np.random.Generator, n_customers: int, r: float, alpha: float, s: float,
               beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Pareto/NBD purchase histories: (customer of each order, purchase time), by customer and time.

    The first purchase of every customer is drawn with the seasonality of _purchase_times; the
    repeat purchases fall in [first purchase, min(first purchase + tau, end of window)), their day
    uniformly (a homogeneous Poisson process given its count) and their time of day from the hour
    profile, so that same-day purchases can precede the first one by a few hours.
    """
    first = _purchase_times(rng, n_customers)
    lam = rng.gamma(r, 1.0 / alpha, n_customers)  # purchases per week while alive
    mu = rng.gamma(s, 1.0 / beta, n_customers)  # dropouts per week
    with np.errstate(divide="ignore", over="ignore"):
        tau = rng.exponential(1.0, n_customers) / mu  # weeks alive after the first purchase (inf if mu == 0)
    alive = np.minimum(tau, (WINDOW_END - first) / WEEK)
    repeats = rng.poisson(lam * alive)
    owner = np.repeat(np.arange(n_customers), repeats)
    at = first[owner] + np.floor(rng.random(len(owner)) * alive[owner] * WEEK).astype(np.int64)
    at = at - at % DAY + _choice(rng, HOUR_WEIGHTS, len(owner)) * HOUR + rng.integers(0, HOUR, len(owner))
    customer = np.concatenate([np.arange(n_customers), owner])
    purchase = np.concatenate([first, at])
    order = np.lexsort((purchase, customer))
    return customer[order], purchase[order]


def orders_per_customer(r: float = BTYD_DEFAULTS["r"], alpha: float = BTYD_DEFAULTS["alpha"],
                        s: float = BTYD_DEFAULTS["s"], beta: float = BTYD_DEFAULTS["beta"]) -> float:
    """Expected orders per customer: 1 + the Pareto/NBD mean number of repeats over the time left.

    E[X(T)] = r beta / (alpha (s - 1)) * (1 - (beta / (beta + T))^(s - 1)) (-> r beta / alpha *
    ln(1 + T / beta) at s = 1), averaged over the acquisition distribution (day and hour weights).
    """
    _check_btyd(r, alpha, s, beta)
    days, day_w = _day_weights()
    hours = np.arange(24) * HOUR + HOUR / 2
    weight = (day_w[:, None] * np.array(HOUR_WEIGHTS, dtype=float)[None, :]).ravel()
    t_left = ((WINDOW_END - (days[:, None] + hours[None, :])) / WEEK).ravel()
    log_ratio = np.log1p(t_left / beta)
    scaled = log_ratio if abs(s - 1) < 1e-12 else -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    return 1.0 + float(np.sum(weight * r * beta / alpha * scaled) / weight.sum())


ORDERS_PER_CUSTOMER = orders_per_customer()


def _force_each_status(rng: np.random.Generator, status: np.ndarray) -> np.ndarray:
    """Make sure every status occurs at least once (small samples would miss the rare ones)."""
    for code in range(1, len(ORDER_STATUSES)):
        delivered = np.flatnonzero(status == 0)
        if len(delivered) > 100 and not (status == code).any():
            status[delivered[rng.integers(len(delivered))]] = code
    return status


def _order_timeline(rng, status_names, purchase, expected_days, boleto):
    """Approval, carrier, delivery and estimated-delivery timestamps with status-dependent nulls."""
    n = len(purchase)
    approval_hours = np.where(boleto, rng.lognormal(np.log(30), 0.5, n), rng.lognormal(np.log(0.3), 1.3, n))
    approved = purchase + (approval_hours * HOUR).astype(np.int64)
    transit_days = 0.8 + rng.gamma(2.0, (expected_days - 0.8) / 2.0)
    carrier_days = np.minimum(rng.gamma(1.5, 2.8 / 1.5, n), 0.6 * transit_days)
    carrier = approved + (carrier_days * DAY).astype(np.int64)
    delivered = np.maximum(purchase + (transit_days * DAY).astype(np.int64),
                           carrier + rng.integers(6 * HOUR, 2 * DAY, n))
    purchase_day = purchase - purchase % DAY
    estimate_days = np.maximum(3, np.ceil(2.0 * expected_days * rng.uniform(0.85, 1.2, n)))
    estimated = purchase_day + estimate_days.astype(np.int64) * DAY

    is_ = {name: status_names == name for name in dict(ORDER_STATUSES)}
    no_approval = is_["created"] | (is_["canceled"] & (rng.random(n) < 0.29))
    no_carrier = ~(is_["delivered"] | is_["shipped"] | (is_["canceled"] & ~no_approval & (rng.random(n) < 0.2)))
    no_delivery = ~(is_["delivered"] | (is_["canceled"] & ~no_carrier & (rng.random(n) < 0.2)))
    delivered_ids = np.flatnonzero(is_["delivered"])
    if len(delivered_ids):  # a few delivered orders lack a timestamp, as in the real data
        no_delivery[rng.choice(delivered_ids, _at_least(0.0001, len(delivered_ids), 2), replace=False)] = True
        no_approval[rng.choice(delivered_ids, _at_least(0.00015, len(delivered_ids), 1), replace=False)] = True
    return approved, carrier, delivered, estimated, no_approval, no_carrier, no_delivery


def _products(rng: np.random.Generator, n_products: int, n_sellers: int) -> dict:
    cat_weights = np.array([c[2] for c in CATEGORIES])
    category = _choice(rng, cat_weights, n_products)
    no_category = rng.random(n_products) < PRODUCTS_WITHOUT_CATEGORY
    median_price = np.array([c[3] for c in CATEGORIES], dtype=float)[category]
    price = np.maximum(1.0, median_price * rng.lognormal(0, 0.75, n_products))
    endings = np.array([90, 99, 0, 50, -1])
    ending = endings[_choice(rng, [0.45, 0.2, 0.15, 0.05, 0.15], n_products)]
    cents = np.where(ending < 0, rng.integers(0, 100, n_products), ending)
    price_cents = np.floor(price).astype(np.int64) * 100 + cents
    seller_activity = rng.lognormal(0, 1.6, n_sellers)
    weight = np.clip(rng.lognormal(np.log(700), 1.2, n_products), 50, 40000).round(-1)
    length = np.clip(rng.lognormal(np.log(25), 0.5, n_products), 7, 105).round()
    height = np.clip(rng.lognormal(np.log(13), 0.7, n_products), 2, 105).round()
    width = np.clip(rng.lognormal(np.log(20), 0.45, n_products), 6, 118).round()
    no_measures = np.zeros(n_products, dtype=bool)
    no_measures[rng.choice(n_products, _at_least(0.00006, n_products, 1), replace=False)] = True
    return {
        "id": _hex_ids(rng, n_products),
        "category": np.where(no_category, 0, category),
        "no_category": no_category,
        "seller": _choice(rng, seller_activity, n_products),
        "price_cents": price_cents,
        "popularity": rng.lognormal(0, 1.4, n_products),
        "name_length": np.clip(rng.normal(48, 10, n_products), 5, 76).round(),
        "description_length": np.clip(rng.lognormal(np.log(600), 0.75, n_products), 4, 3992).round(),
        "photos": 1 + np.minimum(rng.geometric(0.55, n_products) - 1, 19),
        "weight": weight, "length": length, "height": height, "width": width,
        "no_measures": no_measures,
    }


def _items(rng, orders_with_items, products, approved_or_purchase, expected_days):
    """Order items: mostly one per order; multi-item orders often repeat the same product."""
    n_items = 1 + _choice(rng, ITEMS_PER_ORDER, len(orders_with_items))
    order = np.repeat(orders_with_items, n_items)
    first_row = np.repeat(np.cumsum(n_items) - n_items, n_items)
    item_number = np.arange(len(order)) - first_row + 1
    product = _choice(rng, products["popularity"], len(order))
    same_product = np.repeat(rng.random(len(orders_with_items)) < 0.6, n_items)
    product = np.where(same_product, product[first_row], product)
    price = products["price_cents"][product]
    repriced = rng.random(len(order)) < 0.08
    price = np.where(repriced, np.round(price * rng.uniform(0.9, 1.1, len(order))), price).astype(np.int64)
    price = np.maximum(price, 85)
    distance = np.sqrt(expected_days[order] / 12.0)
    freight = np.round(100 * (7 + 0.10 * price / 100 * rng.lognormal(0, 0.45, len(order)) * distance))
    freight = np.where(rng.random(len(order)) < 0.0035, 0, freight).astype(np.int64)
    shipping_limit = approved_or_purchase[order] + rng.integers(5 * DAY, 8 * DAY, len(order))
    return {"order": order, "item_number": item_number, "product": product,
            "seller": products["seller"][product], "price": price, "freight": freight,
            "shipping_limit": shipping_limit}


def _payments(rng, n_orders, order_total, primary_type, status_names, has_items):
    """Payment rows; sums match items + freight to the cent except for a few orders."""
    n_rows = np.ones(n_orders, dtype=np.int64)
    split = rng.random(n_orders) < SPLIT_PAYMENT_SHARE
    n_rows[split] = np.where(rng.random(int(split.sum())) < 0.75, 2, 3)
    order = np.repeat(np.arange(n_orders), n_rows)
    first_row = np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    sequential = np.arange(len(order)) - first_row + 1
    is_last = sequential == n_rows[order]

    ptype = np.where(n_rows[order] > 1, np.where(is_last, 0, 2), primary_type[order])  # 0 card, 2 voucher
    total = order_total[order]
    voucher_share = rng.uniform(0.05, 0.6, len(order)) / np.maximum(1, n_rows[order] - 1)
    voucher = np.where(is_last, 0, np.floor(total * voucher_share))
    voucher_sum = np.bincount(order, weights=voucher, minlength=n_orders).astype(np.int64)
    value = np.where(is_last, total - voucher_sum[order], voucher).astype(np.int64)

    installments = np.ones(len(order), dtype=np.int64)
    card = ptype == 0
    drawn = 1 + _choice(rng, INSTALLMENT_WEIGHTS, int(card.sum()))
    installments[card] = np.minimum(drawn, np.maximum(1, value[card] // 1000))

    interest = is_last & card & (installments > 1) & (rng.random(len(order)) < 0.015)
    value = np.where(interest, np.round(value * rng.uniform(1.01, 1.06, len(order))), value)
    off_by_cent = is_last & (rng.random(len(order)) < 0.002)
    value = np.where(off_by_cent, value + rng.choice([-1, 1], len(order)), value).astype(np.int64)

    keep = np.ones(len(order), dtype=bool)
    ptype_names = np.array(PAYMENT_TYPES + ["not_defined"])
    canceled = np.flatnonzero(status_names == "canceled")
    not_defined = rng.choice(canceled, min(len(canceled), _at_least(0.00003, n_orders, 2)), replace=False)
    delivered_with_items = np.flatnonzero((status_names == "delivered") & has_items)
    unpaid = rng.choice(delivered_with_items, _at_least(0.00001, len(delivered_with_items), 1), replace=False)
    nd_rows = np.isin(order, not_defined)
    keep &= ~np.isin(order, unpaid) & ~(nd_rows & (sequential > 1))
    ptype = np.where(nd_rows, len(PAYMENT_TYPES), ptype)
    value = np.where(nd_rows, 0, value)
    installments = np.where(nd_rows, 1, installments)
    return {"order": order[keep], "sequential": np.where(nd_rows, 1, sequential)[keep],
            "type": ptype_names[ptype[keep]], "installments": installments[keep], "value": value[keep]}


def _reviews(rng, order_ids, status_names, purchase, delivered, estimated, no_delivery, customer_of_order):
    """Reviews: score driven by delivery, optional comments, missing, second and reused reviews.

    Every order owns one review "slot" (0..n-1) and a few extra slots (n..) hold second reviews.
    An order's review row shows its own slot, except that some orders show the slot of the
    previous order of the same customer: same review_id and content on two orders.
    """
    n = len(status_names)
    extra_order = np.flatnonzero(rng.random(n) < 0.005)  # orders with a second review
    slot_order = np.concatenate([np.arange(n), extra_order])
    is_extra = np.arange(len(slot_order)) >= n

    delivered_ok = ~no_delivery & (status_names == "delivered")
    transit_days = (delivered - purchase) / DAY
    late = delivered_ok & (delivered > estimated + DAY)
    unhappy = np.where(delivered_ok, np.clip(0.012 * np.maximum(0, transit_days - 8), 0, 0.35), 0.6)
    unhappy = np.clip(unhappy + np.where(late, 0.65, 0), 0, 0.95)[slot_order]
    unhappy = np.where(is_extra, 0.4, unhappy)
    probs = (1 - unhappy)[:, None] * SCORES_GOOD + unhappy[:, None] * SCORES_BAD
    score = 1 + _categorical_rows(rng, probs)

    base = np.where(delivered_ok, delivered, np.maximum(estimated, purchase + 3 * DAY))[slot_order]
    base = np.where(is_extra, base + rng.integers(1, 30, len(slot_order)) * DAY, base)
    created = base - base % DAY + np.where(rng.random(len(slot_order)) < 0.7, DAY, 0)
    answered = created + (rng.lognormal(np.log(1.2), 1.0, len(slot_order)) * DAY).astype(np.int64)
    title, message = _comments(rng, score)
    review_ids = _hex_ids(rng, len(slot_order))

    # Reuse the review of some orders on the customer's next order (no chains).
    next_same_customer = np.flatnonzero(customer_of_order[1:] == customer_of_order[:-1])
    n_pairs = min(len(next_same_customer), _at_least(0.004, n, 2))
    pair_first = np.sort(rng.choice(next_same_customer, n_pairs, replace=False))
    pair_first = pair_first[np.diff(pair_first, prepend=-2) > 1]
    shown_slot = np.arange(len(slot_order))
    shown_slot[pair_first + 1] = pair_first

    has_review = np.r_[rng.random(n) >= 0.008, np.ones(len(extra_order), dtype=bool)]
    has_review[pair_first] = has_review[pair_first + 1] = True
    has_review[n:] = has_review[extra_order]
    rows = np.flatnonzero(has_review)
    slot = pa.array(shown_slot[rows])
    return {
        "review_id": review_ids.take(slot),
        "order_id": order_ids.take(pa.array(slot_order[rows])),
        "review_score": _int_text(score).take(slot),
        "review_comment_title": title.take(slot),
        "review_comment_message": message.take(slot),
        "review_creation_date": _timestamps(created).take(slot),
        "review_answer_timestamp": _timestamps(answered).take(slot),
    }


def _pick(rng: np.random.Generator, pools: list[list[str]], pool_of_row: np.ndarray) -> pa.Array:
    """For each row, a random string from the pool its pool_of_row index names."""
    sizes = np.array([len(p) for p in pools])
    offsets = np.cumsum(sizes) - sizes
    index = offsets[pool_of_row] + np.floor(rng.random(len(pool_of_row)) * sizes[pool_of_row]).astype(np.int64)
    return _lookup(sum(pools, []), index)


def _comments(rng: np.random.Generator, score: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Optional title and message in Portuguese by sentiment; some messages span two lines."""
    m = len(score)
    sentiment = np.where(score <= 2, 2, np.where(score == 3, 1, 0))  # positive, neutral, negative
    pools = [POSITIVE_COMMENTS, NEUTRAL_COMMENTS, NEGATIVE_COMMENTS]
    first, second = _pick(rng, pools, sentiment), _pick(rng, pools, sentiment)
    joiner = _choice(rng, [0.93, 0.03, 0.02, 0.02], m)
    joiners = ["", ", ", ",\n", "\r\n"]
    second = pc.if_else(pa.array(joiner == 0), "", second)
    message = pc.binary_join_element_wise(first, _lookup(joiners, joiner), second, "")
    has_message = rng.random(m) < np.array([0.33, 0.5, 0.75])[sentiment]
    message = pc.if_else(pa.array(has_message), message, pa.scalar(None, pa.string()))

    titles = _pick(rng, [COMMENT_TITLES["positive"], COMMENT_TITLES["neutral"], COMMENT_TITLES["negative"]],
                   sentiment)
    title = pc.if_else(pa.array(rng.random(m) < 0.12), titles, pa.scalar(None, pa.string()))
    return title, message


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

def customers_for_orders(n_orders: int, btyd_r: float = BTYD_DEFAULTS["r"],
                         btyd_alpha: float = BTYD_DEFAULTS["alpha"], btyd_s: float = BTYD_DEFAULTS["s"],
                         btyd_beta: float = BTYD_DEFAULTS["beta"]) -> int:
    """Number of customers expected to place about n_orders orders (with these lifetimes)."""
    return max(1, int(round(n_orders / orders_per_customer(btyd_r, btyd_alpha, btyd_s, btyd_beta))))


def generate(customers: int, seed: int, out_dir, *, btyd_r: float = BTYD_DEFAULTS["r"],
             btyd_alpha: float = BTYD_DEFAULTS["alpha"], btyd_s: float = BTYD_DEFAULTS["s"],
             btyd_beta: float = BTYD_DEFAULTS["beta"]) -> dict:
    """Write the nine Olist files for `customers` synthetic customers; returns data rows per file.

    btyd_r, btyd_alpha, btyd_s, btyd_beta: the Pareto/NBD lifetime parameters (rates per week),
    see BTYD_DEFAULTS.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    btyd = {"r": float(btyd_r), "alpha": float(btyd_alpha), "s": float(btyd_s), "beta": float(btyd_beta)}
    _check_btyd(**btyd)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geo = Geography()

    # Customers and their orders (Pareto/NBD lifetimes) -----------------------------------------
    customer_of_order, purchase = _lifetimes(_rng(seed, "lifetimes"), customers, **btyd)
    n_orders = len(customer_of_order)
    rng = _rng(seed, "customers")
    c_state, c_city, c_zip = geo.place(rng, geo.customer_weights, customers)
    unique_ids = _hex_ids(rng, customers)
    customer_ids = _hex_ids(rng, n_orders)  # one customer_id per order

    rng = _rng(seed, "orders")
    order_ids = _hex_ids(rng, n_orders)
    status = _force_each_status(rng, _choice(rng, [p for _, p in ORDER_STATUSES], n_orders))
    status_names = np.array([s for s, _ in ORDER_STATUSES])[status]
    primary_type = _choice(rng, PRIMARY_PAYMENT_WEIGHTS, n_orders)
    expected_days = geo.delivery_days[c_state[customer_of_order]]
    approved, carrier, delivered, estimated, no_approval, no_carrier, no_delivery = _order_timeline(
        rng, status_names, purchase, expected_days, primary_type == 1)
    has_items = ~np.isin(status_names, ["unavailable", "created"]) & ~(
        (status_names == "canceled") & (rng.random(n_orders) < 0.25))

    # Sellers, products, items -----------------------------------------------------------------
    rng = _rng(seed, "sellers")
    n_sellers = max(10, int(round(SELLERS_PER_ORDER * n_orders)))
    seller_ids = _hex_ids(rng, n_sellers)
    s_state, s_city, s_zip = geo.place(rng, geo.seller_weights, n_sellers)

    rng = _rng(seed, "products")
    n_products = max(50, int(round(PRODUCTS_PER_ORDER * n_orders)))
    products = _products(rng, n_products, n_sellers)

    rng = _rng(seed, "items")
    items = _items(rng, np.flatnonzero(has_items), products, np.where(no_approval, purchase, approved),
                   expected_days)

    # Payments and reviews ---------------------------------------------------------------------
    rng = _rng(seed, "payments")
    item_total = np.bincount(items["order"], weights=items["price"] + items["freight"], minlength=n_orders)
    phantom_total = np.round(100 * (7 + rng.lognormal(np.log(80), 0.8, n_orders)))  # orders without items
    order_total = np.where(has_items, item_total, phantom_total).astype(np.int64)
    payments = _payments(rng, n_orders, order_total, primary_type, status_names, has_items)

    rng = _rng(seed, "reviews")
    reviews = _reviews(rng, order_ids, status_names, purchase, delivered, estimated, no_delivery,
                       customer_of_order)

    # Write ------------------------------------------------------------------------------------
    rng = _rng(seed, "layout")
    counts = {}
    order_rows = rng.permutation(n_orders)
    counts[FILES["orders"]] = _write_csv(out / FILES["orders"], {
        "order_id": order_ids.take(pa.array(order_rows)),
        "customer_id": customer_ids.take(pa.array(order_rows)),
        "order_status": _text(status_names[order_rows]),
        "order_purchase_timestamp": _timestamps(purchase[order_rows]),
        "order_approved_at": _timestamps(approved[order_rows], no_approval[order_rows]),
        "order_delivered_carrier_date": _timestamps(carrier[order_rows], no_carrier[order_rows]),
        "order_delivered_customer_date": _timestamps(delivered[order_rows], no_delivery[order_rows]),
        "order_estimated_delivery_date": _timestamps(estimated[order_rows]),
    }, {"order_id", "customer_id", "order_status"})

    item_table = pa.table({
        "order_id": order_ids.take(pa.array(items["order"])),
        "order_item_id": pa.array(items["item_number"]),
    })
    item_rows = pc.sort_indices(item_table, [("order_id", "ascending"), ("order_item_id", "ascending")]).to_numpy()
    counts[FILES["order_items"]] = _write_csv(out / FILES["order_items"], {
        "order_id": item_table["order_id"].combine_chunks().take(pa.array(item_rows)),
        "order_item_id": _int_text(items["item_number"][item_rows]),
        "product_id": products["id"].take(pa.array(items["product"][item_rows])),
        "seller_id": seller_ids.take(pa.array(items["seller"][item_rows])),
        "shipping_limit_date": _timestamps(items["shipping_limit"][item_rows]),
        "price": _money(items["price"][item_rows]),
        "freight_value": _money(items["freight"][item_rows]),
    }, {"order_id", "product_id", "seller_id"})

    pay_rows = rng.permutation(len(payments["order"]))
    counts[FILES["order_payments"]] = _write_csv(out / FILES["order_payments"], {
        "order_id": order_ids.take(pa.array(payments["order"][pay_rows])),
        "payment_sequential": _int_text(payments["sequential"][pay_rows]),
        "payment_type": _text(payments["type"][pay_rows]),
        "payment_installments": _int_text(payments["installments"][pay_rows]),
        "payment_value": _money(payments["value"][pay_rows]),
    }, {"order_id", "payment_type"})

    review_rows = pa.array(rng.permutation(len(reviews["review_id"])))
    counts[FILES["order_reviews"]] = _write_csv(
        out / FILES["order_reviews"], {k: v.take(review_rows) for k, v in reviews.items()},
        {"review_id", "order_id", "review_comment_title", "review_comment_message"})

    customer_rows = rng.permutation(n_orders)
    owner = customer_of_order[customer_rows]
    counts[FILES["customers"]] = _write_csv(out / FILES["customers"], {
        "customer_id": customer_ids.take(pa.array(customer_rows)),
        "customer_unique_id": unique_ids.take(pa.array(owner)),
        "customer_zip_code_prefix": _zip_text(c_zip[owner]),
        "customer_city": _lookup(geo.city_names, c_city[owner]),
        "customer_state": _lookup(geo.state_codes, c_state[owner]),
    }, {"customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"})

    no_category = products["no_category"]
    no_measures = products["no_measures"]
    counts[FILES["products"]] = _write_csv(out / FILES["products"], {
        "product_id": products["id"],
        "product_category_name": _lookup([c[0] for c in CATEGORIES], products["category"], no_category),
        "product_name_lenght": _int_text(products["name_length"], no_category),
        "product_description_lenght": _int_text(products["description_length"], no_category),
        "product_photos_qty": _int_text(products["photos"], no_category),
        "product_weight_g": _int_text(products["weight"], no_measures),
        "product_length_cm": _int_text(products["length"], no_measures),
        "product_height_cm": _int_text(products["height"], no_measures),
        "product_width_cm": _int_text(products["width"], no_measures),
    }, {"product_id", "product_category_name"})

    counts[FILES["sellers"]] = _write_csv(out / FILES["sellers"], {
        "seller_id": seller_ids,
        "seller_zip_code_prefix": _zip_text(s_zip),
        "seller_city": _lookup(geo.city_names, s_city),
        "seller_state": _lookup(geo.state_codes, s_state),
    }, {"seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"})

    rng = _rng(seed, "geolocation")
    geolocation = _geolocation(rng, geo, np.concatenate([c_zip, s_zip]), np.concatenate([c_city, s_city]))
    counts[FILES["geolocation"]] = _write_csv(
        out / FILES["geolocation"], geolocation,
        {"geolocation_zip_code_prefix", "geolocation_city", "geolocation_state"})

    translation = dict((c[0], c[1]) for c in CATEGORIES)
    counts[FILES["category_translation"]] = _write_csv(out / FILES["category_translation"], {
        "product_category_name": _text(TRANSLATION_ORDER),
        "product_category_name_english": _text([translation[c] for c in TRANSLATION_ORDER]),
    }, set(), quote_header=False, eol="\r\n", bom=True, final_eol=False)

    options = " ".join(f"--btyd-{k} {v:g}" for k, v in btyd.items())
    (out / "GENERATED_WITH.json").write_text(json.dumps({  # no paths or times: stays byte-identical
        "generator": "scripts/generate_olist.py",
        "customers": customers,
        "seed": seed,
        "btyd": {"model": "Pareto/NBD", "time_unit": "week", **btyd},
        "command": f"python scripts/generate_olist.py --customers {customers} --seed {seed} {options} "
                   f"--out <this folder>",
        "rows": counts,
    }, indent=2) + "\n")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--customers", type=int, help="number of customers (customer_unique_id)")
    size.add_argument("--orders", type=int, help=f"approximate number of orders (customers = orders / "
                                                  f"expected orders per customer: {ORDERS_PER_CUSTOMER:.3f} "
                                                  f"with the default lifetimes)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    btyd = parser.add_argument_group(
        "customer lifetimes (Pareto/NBD, time unit: WEEKS)",
        "purchase rate lambda ~ Gamma(shape r, rate alpha) per week while alive; dropout rate "
        "mu ~ Gamma(shape s, rate beta) per week, lifetime tau ~ Exponential(mu) from the first purchase")
    btyd.add_argument("--btyd-r", type=float, default=BTYD_DEFAULTS["r"],
                      help="shape r of the purchase rate (default %(default)s)")
    btyd.add_argument("--btyd-alpha", type=float, default=BTYD_DEFAULTS["alpha"],
                      help="rate alpha of the purchase rate, in weeks (default %(default)s)")
    btyd.add_argument("--btyd-s", type=float, default=BTYD_DEFAULTS["s"],
                      help="shape s of the dropout rate (default %(default)s)")
    btyd.add_argument("--btyd-beta", type=float, default=BTYD_DEFAULTS["beta"],
                      help="rate beta of the dropout rate, in weeks (default %(default)s)")
    args = parser.parse_args(argv)
    lifetimes = {"btyd_r": args.btyd_r, "btyd_alpha": args.btyd_alpha, "btyd_s": args.btyd_s,
                 "btyd_beta": args.btyd_beta}
    try:
        customers = (args.customers if args.customers is not None
                     else customers_for_orders(args.orders, **lifetimes))
    except ValueError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    counts = generate(customers, args.seed, args.out, **lifetimes)
    elapsed = time.perf_counter() - started
    for name, rows in counts.items():
        print(f"{rows:>10,}  {name}")
    print(f"generated {customers:,} customers (seed {args.seed}) into {args.out} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
