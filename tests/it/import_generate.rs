//! The shipped `data-models/*.yaml` are made by `cpefleet template import --recipe
//! data-models/recipes/NAME.yaml`: each source imported with the recipe's options, the hand
//! edits laid over as its overlay. Here every recipe is run through the binary into a temporary
//! directory and must give its shipped file byte for byte, so a file edited without its recipe
//! (or an importer change that moves the output) fails with the command that brings them back
//! in line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn recipes() -> Vec<PathBuf> {
    let dir = root().join("data-models/recipes");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

fn import(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .current_dir(root())
        .args(["template", "import"])
        .args(args)
        .output()
        .expect("run cpefleet")
}

/// The first line where `a` and `b` differ (1-based), with both sides.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => return "same lines, different line ends".into(),
            (x, y) => return format!("line {n}:\n  shipped:   {x:?}\n  generated: {y:?}"),
        }
    }
    unreachable!()
}

#[test]
fn every_shipped_data_model_is_what_its_recipe_generates() {
    let recipes = recipes();
    let names: Vec<String> = recipes
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["tr098-igd", "tr104-voip", "tr135-stb", "tr181-gateway"],
        "one recipe per shipped template"
    );
    let dir = tempfile::tempdir().unwrap();
    for (recipe, name) in recipes.iter().zip(&names) {
        let out = dir.path().join(format!("{name}.yaml"));
        let run = import(&[
            "--recipe",
            recipe.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let generated = std::fs::read_to_string(&out).unwrap();
        let shipped =
            std::fs::read_to_string(root().join(format!("data-models/{name}.yaml"))).unwrap();
        assert!(
            generated == shipped,
            "data-models/{name}.yaml is not what its recipe generates; first difference at {}\n\
             Regenerate it: cargo run -- template import --recipe data-models/recipes/{name}.yaml \
             -o data-models/{name}.yaml\n(or, to keep a hand edit, record it into the recipe: \
             cargo run -- template import --recipe data-models/recipes/{name}.yaml \
             --record-edits data-models/{name}.yaml)",
            first_difference(&shipped, &generated)
        );
    }
}

/// The overlay is what makes the shipped file: the recipe's import alone differs from it,
/// and `--record-edits` of the shipped file gives back exactly the recipe's overlay.
#[test]
fn the_recorded_edits_of_a_shipped_file_are_its_recipes_overlay() {
    let recipe = "data-models/recipes/tr135-stb.yaml";
    let out = import(&[
        "--recipe",
        recipe,
        "--record-edits",
        "data-models/tr135-stb.yaml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let text = std::fs::read_to_string(root().join(recipe)).unwrap();
    let in_recipe = &text[text.find("\noverlay:\n").expect("an overlay section") + 1..];
    assert_eq!(printed, in_recipe);
    assert!(
        printed.contains("HardwareVersion: { value: STB135-HW1 }"),
        "{printed}"
    );
}

#[test]
fn bad_recipes_exit_2_with_the_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "header: x\nname: r\nsources: []\nbogus: 1\n").unwrap();
    let out = import(&["--recipe", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("line 4"), "{err}");
    let missing = dir.path().join("missing.yaml");
    std::fs::write(
        &missing,
        "header: x\nname: r\nsources: [{ genieacs_csv: { file: nope.csv } }]\n",
    )
    .unwrap();
    let out = import(&["--recipe", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
}
