//! `cpefleet template import|check`: data models in and checked.

use super::*;

pub(super) fn recipe_cmd(path: &Path, a: &ImportArgs) -> anyhow::Result<i32> {
    let origin = path.display().to_string();
    let recipe = import::Recipe::parse(&read_input(path)?)
        .map_err(|e| InputError(format!("{origin}: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let texts = recipe
        .files()
        .iter()
        .map(|f| read_input(&dir.join(f)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out = match &a.record_edits {
        Some(edited) => {
            // Loaded first, so a template that does not load is reported with its location.
            load_template(edited)?;
            let file: crate::model::file::TemplateFile = serde_yaml::from_str(&read_input(edited)?)
                .map_err(|e| InputError(format!("{}: {e}", edited.display())))?;
            recipe.record_edits(&texts, &file)
        }
        None => recipe.build(&texts),
    }
    .map_err(|e| InputError(format!("{origin}: {e}")))?;
    write_output(a.output.as_deref(), &out)?;
    Ok(0)
}

pub(super) fn import_cmd(a: ImportArgs) -> anyhow::Result<i32> {
    if let Some(recipe) = &a.recipe {
        return recipe_cmd(recipe, &a);
    }
    let (Some(format), Some(file)) = (a.format, a.file.as_deref()) else {
        return Err(
            InputError("template import: give --from FORMAT FILE, or --recipe".into()).into(),
        );
    };
    let src = read_input(file)?;
    let name = a.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "imported".into())
    });
    let origin = file.display().to_string();
    let t = match format {
        ImportFormat::GenieacsCsv => import::import_genieacs_csv(&src, &name),
        ImportFormat::BbfXml => {
            let opts = import::BbfImportOptions {
                root: a.root.clone(),
                include: a.include.clone(),
                instances: a.instances,
                name: name.clone(),
                ..Default::default()
            };
            import::import_bbf_xml(&src, &opts)
        }
    }
    .map_err(|e| InputError(format!("{origin}: {e}")))?;
    let yaml = import::write_yaml(&t).map_err(|e| InputError(format!("{origin}: {e}")))?;
    // Only what loads is written: a template that `template check` would refuse is an import
    // error here, with the loader's reason, not a file that fails later.
    if let Err(e) = Template::from_yaml_str(&yaml, "the imported template") {
        let service = src.contains("isService=\"true\"");
        let hint = if matches!(format, ImportFormat::BbfXml) && service {
            "; a service model (TR-104, TR-135) has no root object of its own: give --root \
             Device. and combine it with a root model's DeviceInfo and ManagementServer"
        } else {
            ""
        };
        return Err(InputError(format!(
            "{origin}: the imported template does not load, nothing written: {e}{hint}"
        ))
        .into());
    }
    write_output(a.output.as_deref(), &yaml)?;
    Ok(0)
}

pub(super) fn template_check(path: &Path) -> anyhow::Result<i32> {
    let t = load_template(path)?;
    println!(
        "{}: template {:?}, root {}, CWMP {}, {} parameters per device",
        path.display(),
        t.name(),
        t.root(),
        t.cwmp_version().as_str(),
        t.parameter_count()
    );
    Ok(0)
}
