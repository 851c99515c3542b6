# Builds reviews.csv: short product reviews written for the Mlflow.Client samples (CC0 1.0).
# Each review joins a hand-written opening and detail; mixed, negated and lukewarm ones make the task not trivially separable.
# Deterministic: python3 make_reviews.py > reviews.csv
import csv, random, sys

random.seed(12)
things = ["blender", "headphones", "backpack", "kettle", "phone case", "desk lamp", "keyboard", "tent", "novel", "coffee grinder",
          "running shoes", "vacuum", "board game", "monitor", "water bottle"]
pos_open = ["I love this {t}.", "Great {t}, works as promised.", "This {t} is excellent.", "Really happy with the {t}.",
            "Best {t} I have owned.", "The {t} exceeded my expectations.", "Solid {t} for the price.", "Wonderful {t}."]
pos_detail = ["It arrived early and feels sturdy.", "Setup took two minutes.", "My family uses it every day.",
              "Quiet, fast and easy to clean.", "Would buy again without hesitation.", "The quality is impressive.",
              "Five stars from me.", "It does exactly what I needed."]
neg_open = ["I regret buying this {t}.", "Terrible {t}, avoid it.", "This {t} broke within a week.", "Very disappointed with the {t}.",
            "Worst {t} I have owned.", "The {t} fell apart quickly.", "Cheap {t} that feels flimsy.", "Awful {t}."]
neg_detail = ["It arrived late and scratched.", "Setup was a nightmare.", "Support never answered my emails.",
              "Loud, slow and hard to clean.", "I returned it for a refund.", "The quality is poor.",
              "One star is generous.", "It does not do what the box says."]
mixed_pos = ["Not bad at all, the {t} grew on me.", "I expected problems but the {t} works fine.", "The box was damaged, yet the {t} is great.",
             "Not cheap, but this {t} is worth it."]
mixed_neg = ["Looks nice, but the {t} stopped working.", "Not good, the {t} is a letdown.", "I wanted to like the {t}, it is not great.",
             "Fine at first, then the {t} broke."]
neutral = ["It is okay, I guess.", "Average {t}, does the job.", "The {t} is what it is.", "Nothing special about this {t}."]

rows = []
for i in range(320):
    t = random.choice(things)
    positive = i % 2 == 0
    if i % 20 in (5, 14):
        # Lukewarm reviews whose star rating went either way: no model gets every one right.
        text = random.choice(neutral).format(t=t)
    elif i % 8 in (6, 7):
        text = random.choice(mixed_pos if positive else mixed_neg).format(t=t)
    else:
        text = random.choice(pos_open if positive else neg_open).format(t=t) + " " + random.choice(pos_detail if positive else neg_detail)
    rows.append((text, 1 if positive else 0))
random.shuffle(rows)
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["text", "label"])
w.writerows(rows)
