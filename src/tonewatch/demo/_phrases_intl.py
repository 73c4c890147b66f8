"""Spanish, French and German phrase banks, plus English/Spanish code-switching.

Smaller than the English banks but built the same way (templates with alternatives and
slots), so customers writing in their own language still produce varied text across every
issue category and sentiment. Product names, error codes and integration names stay in
English, as they do in real tickets.
"""

from __future__ import annotations

__all__ = ["CODE_SWITCH", "INTL"]

# INTL[language][part] -> templates; "problem" is keyed by category, the feeling parts by sentiment.
INTL: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "greeting": {"any": ("[Hola|Buenos días|Buenas tardes|Hola equipo|Estimado equipo de soporte],",)},
        "problem": {
            "billing": (
                "[nos han cobrado|me han cobrado] [dos veces|el doble] [la suscripción|la factura {invoice}] "
                "[este mes|{date_es}]",
                "la factura {invoice} [indica|muestra] {amount} pero [solo tenemos|nuestro contrato es de] {seats} "
                "licencias",
                "[necesito|¿podéis enviarme] [una copia|una versión corregida] de la factura {invoice}",
            ),
            "refund": (
                "[solicito|queremos solicitar|necesitamos] el reembolso de {amount}[ del cobro duplicado|]",
                "[nos prometieron|me dijeron que recibiríamos] un reembolso de {amount} y [todavía no ha llegado|"
                "no aparece en la tarjeta]",
            ),
            "login/access": (
                "[no puedo|no podemos|nadie del equipo puede] iniciar sesión [desde ayer|desde el lunes|esta "
                "mañana][ con SSO|]",
                "[el correo de restablecimiento|el código 2FA|la invitación] [no llega|no funciona|ha caducado]",
            ),
            "bug": (
                "{feature_bare} [no funciona|no carga|se bloquea|da el error {error}] [desde la última "
                "actualización|desde ayer|en {browser}]",
                "[las tareas|los comentarios|los adjuntos] [desaparecen|se duplican|no se guardan] en {feature_bare}",
            ),
            "performance": (
                "{feature_bare} [va lentísimo|tarda muchísimo en cargar|está muy lento] [desde ayer|esta semana|para "
                "todo el equipo]",
                "[la aplicación|{product}] [no carga|está caída|da timeout] [otra vez|ahora mismo]",
            ),
            "delivery": (
                "la exportación a [CSV|Excel|PDF] [falla|no termina|sale vacía] [desde ayer|esta semana]",
                "la integración con {integration} [no sincroniza|se desconecta|duplica elementos] [desde el "
                "lunes|desde hace días]",
            ),
            "cancellation": (
                "[queremos|hemos decidido] [cancelar|no renovar] [la suscripción|el contrato] [antes del "
                "{renewal}|al final del periodo]",
                "¿cómo [cancelo|cerramos] la cuenta?",
            ),
            "how-to": (
                "¿cómo [puedo|podemos] [configurar|usar] {feature_bare} [para el equipo|con {integration}]?",
                "¿es posible [exportar|importar|duplicar] [un proyecto entero|todas las tareas]?",
            ),
            "feature request": (
                "[sería genial|nos encantaría] que {feature_bare} [tuviera|permitiera] [modo oscuro|filtros por "
                "responsable|estados personalizados]",
                "¿[tenéis planes de|vais a] integrar {integration}?",
            ),
        },
        "feeling": {
            "positive": (
                "[Nos encanta|Estamos muy contentos con] {product}[, de verdad|]!",
                "[Muchas gracias|Gracias] por [la ayuda|el buen soporte|la rapidez].",
            ),
            "neutral": ("[Gracias|Muchas gracias] de antemano.", "[No es urgente|Sin prisa].", ""),
            "mild": (
                "[Es un poco|Resulta bastante] [frustrante|molesto].",
                "[La verdad es que|Sinceramente,] esperábamos [algo mejor|que ya estuviera resuelto].",
            ),
            "strong": (
                "[Esto es|Es] [inaceptable|una vergüenza|un desastre].",
                "[Estamos muy|Estamos realmente] [hartos|molestos|enfadados] [con esto|ya].",
                "[Estoy muy|Estoy realmente] [harto|molesto|enfadado] [con esto|ya].",
                "Si no se soluciona [esta semana|pronto], [cancelaremos|buscaremos otra herramienta].",
            ),
        },
        "ask": {
            "any": (
                "¿[Podéis|Pueden] [revisarlo|ayudarnos|solucionarlo][ lo antes posible| cuanto antes|]?",
                "¿Hay [alguna solución temporal|fecha estimada]?",
            )
        },
        "closing": {"any": ("[Saludos|Un saludo|Gracias|Atentamente],",)},
        "repeat": {"any": ("[Es la|Ya es la] {count_es} vez que [escribo|os escribo] por [esto|el mismo problema].",)},
        "followup": {
            "positive": ("[¡Funciona!|Ya funciona,|Perfecto,] [muchas gracias|gracias por la ayuda].",),
            "neutral": ("[Adjunto|Os envío] [la captura|el archivo HAR|los datos que pedíais].",),
            "negative": ("[Lo he probado|Lo hemos probado] pero [sigue sin funcionar|el error continúa].",),
        },
    },
    "fr": {
        "greeting": {"any": ("[Bonjour|Bonjour à tous|Bonjour l'équipe|Madame, Monsieur],",)},
        "problem": {
            "billing": (
                "[nous avons été|j'ai été] [facturés|débité] [deux fois|en double] pour [l'abonnement|la facture "
                "{invoice}] [ce mois-ci|{date_fr}]",
                "la facture {invoice} [indique|affiche] {amount} alors que nous n'avons que {seats} licences",
                "[pourriez-vous m'envoyer|j'ai besoin d'] une copie corrigée de la facture {invoice}",
            ),
            "refund": (
                "[je souhaite|nous souhaitons] [obtenir|demander] le remboursement de {amount}",
                "on nous a promis un remboursement de {amount} [mais rien n'est arrivé|qui n'apparaît toujours pas]",
            ),
            "login/access": (
                "[je n'arrive pas à|personne dans l'équipe ne peut] se connecter [depuis hier|depuis lundi|ce "
                "matin][ via SSO|]",
                "[l'e-mail de réinitialisation|le code 2FA|l'invitation] [n'arrive pas|ne fonctionne pas|a expiré]",
            ),
            "bug": (
                "{feature_bare} [ne fonctionne plus|ne se charge pas|plante|affiche l'erreur {error}] [depuis la "
                "dernière mise à jour|depuis hier|sur {browser}]",
                "[les tâches|les commentaires|les pièces jointes] [disparaissent|sont dupliqués|ne sont pas "
                "enregistrés] dans {feature_bare}",
            ),
            "performance": (
                "{feature_bare} est [extrêmement lent|très lent|inutilisable] [depuis hier|cette semaine|pour toute "
                "l'équipe]",
                "[l'application|{product}] [ne répond plus|est en panne|affiche des timeouts] [encore une fois|en "
                "ce moment]",
            ),
            "delivery": (
                "l'export [CSV|Excel|PDF] [échoue|ne se termine jamais|est vide] [depuis hier|cette semaine]",
                "la synchronisation avec {integration} [ne fonctionne plus|se déconnecte|crée des doublons]",
            ),
            "cancellation": (
                "nous [souhaitons|avons décidé de] [résilier|ne pas renouveler] [notre abonnement|le contrat] "
                "[avant le {renewal}|à la fin de la période]",
                "comment [résilier|fermer] notre compte ?",
            ),
            "how-to": (
                "comment [configurer|utiliser] {feature_bare} [pour l'équipe|avec {integration}] ?",
                "est-il possible d'[exporter|importer|dupliquer] [un projet entier|toutes les tâches] ?",
            ),
            "feature request": (
                "ce serait [génial|très utile] si {feature_bare} [permettait|proposait] [le mode sombre|des statuts "
                "personnalisés|le filtrage par responsable]",
                "avez-vous prévu une intégration avec {integration} ?",
            ),
        },
        "feeling": {
            "positive": (
                "[Nous adorons|Toute l'équipe apprécie] {product}[, merci|]!",
                "[Merci beaucoup|Merci] pour [votre aide|la rapidité|votre réactivité].",
            ),
            "neutral": ("[Merci d'avance|Merci].", "[Ce n'est pas urgent|Rien d'urgent].", ""),
            "mild": (
                "[C'est un peu|C'est assez] [frustrant|agaçant|décevant].",
                "[Honnêtement,|Franchement,] nous espérions [mieux|que ce soit déjà réglé].",
            ),
            "strong": (
                "[C'est|Ceci est] [inacceptable|scandaleux|n'importe quoi].",
                "Nous sommes [vraiment|extrêmement] [agacés|mécontents|en colère].",
                "Je suis [vraiment|extrêmement] [déçu|mécontent|en colère].",
                "Sans solution [cette semaine|rapidement], nous [résilierons|chercherons une alternative].",
            ),
        },
        "ask": {
            "any": (
                "[Pouvez-vous|Pourriez-vous] [regarder|corriger|nous aider][ rapidement| au plus vite|] ?",
                "Avez-vous [une solution de contournement|un délai estimé] ?",
            )
        },
        "closing": {"any": ("[Cordialement|Bien cordialement|Merci|Bonne journée],",)},
        "repeat": {
            "any": ("[C'est la|C'est déjà la] {count_fr} fois que [je vous écris|nous vous contactons] à ce sujet.",)
        },
        "followup": {
            "positive": ("[Ça marche|C'est réglé], [merci beaucoup|merci pour votre aide] !",),
            "neutral": ("[Voici|Ci-joint] [la capture d'écran|le fichier HAR|les informations demandées].",),
            "negative": ("[J'ai essayé|Nous avons essayé] mais [ça ne marche toujours pas|l'erreur persiste].",),
        },
    },
    "de": {
        "greeting": {"any": ("[Hallo|Guten Tag|Hallo zusammen|Sehr geehrte Damen und Herren],",)},
        "problem": {
            "billing": (
                "[uns wurde|mir wurde] [das Abo|die Rechnung {invoice}] [doppelt|zweimal] [berechnet|abgebucht]"
                "[ am {date_de}| diesen Monat|]",
                "die Rechnung {invoice} [zeigt {amount}|weist {amount} aus], aber wir haben nur {seats} Lizenzen",
                "[können Sie mir eine korrigierte Rechnung {invoice} schicken|bitte senden Sie mir eine korrigierte "
                "Rechnung {invoice}]",
            ),
            "refund": (
                "[ich bitte um|wir bitten um|wir möchten] [eine Rückerstattung|die Erstattung] von {amount}",
                "uns wurde eine Erstattung von {amount} zugesagt, [aber sie ist nie angekommen|die immer noch fehlt]",
            ),
            "login/access": (
                "[ich kann mich|niemand im Team kann sich] [seit gestern|seit Montag|heute früh] nicht "
                "[anmelden|einloggen][ per SSO|]",
                "[die Passwort-Reset-Mail|der 2FA-Code|die Einladung] [kommt nicht an|funktioniert nicht|ist "
                "abgelaufen]",
            ),
            "bug": (
                "{feature_bare} [funktioniert nicht mehr|lädt nicht|stürzt ab|zeigt den Fehler {error}] [seit dem "
                "letzten Update|seit gestern|in {browser}]",
                "[Aufgaben|Kommentare|Anhänge] [verschwinden|werden doppelt angelegt|werden nicht gespeichert] in "
                "{feature_bare}",
            ),
            "performance": (
                "{feature_bare} ist [extrem langsam|sehr langsam|kaum benutzbar] [seit gestern|diese Woche|für das "
                "ganze Team]",
                "[die App|{product}] [reagiert schon wieder nicht|ist gerade down|läuft ständig in Timeouts]",
            ),
            "delivery": (
                "der [CSV|Excel|PDF]-Export [schlägt seit gestern fehl|wird nie fertig|ist seit Montag leer]",
                "die {integration}-Synchronisation [funktioniert nicht|bricht ab|erzeugt Duplikate]",
            ),
            "cancellation": (
                "wir [möchten|haben beschlossen,] [unser Abo|den Vertrag] [zu kündigen|nicht zu verlängern] "
                "[vor dem {renewal}|zum Ende der Laufzeit]",
                "wie [kündigen|schließen] wir unser Konto?",
            ),
            "how-to": (
                "wie [richte ich|nutzen wir] {feature_bare} [für das Team|mit {integration}] [ein|]?",
                "kann man [ein ganzes Projekt|alle Aufgaben] [exportieren|importieren|duplizieren]?",
            ),
            "feature request": (
                "es wäre [super|sehr hilfreich], wenn {feature_bare} [einen Dark Mode|eigene Status|einen Filter nach "
                "Verantwortlichen] hätte",
                "ist eine Integration mit {integration} geplant?",
            ),
        },
        "feeling": {
            "positive": (
                "[Wir lieben|Das ganze Team mag] {product}[, danke|]!",
                "[Vielen Dank|Danke] für [die Hilfe|den tollen Support|die schnelle Antwort].",
            ),
            "neutral": ("[Danke im Voraus|Vielen Dank].", "[Nicht dringend|Keine Eile].", ""),
            "mild": (
                "[Das ist etwas|Das ist ziemlich] [frustrierend|ärgerlich|enttäuschend].",
                "[Ehrlich gesagt|Offen gesagt] hatten wir [mehr erwartet|gehofft, dass das längst gelöst ist].",
            ),
            "strong": (
                "[Das ist|Das ist wirklich] [inakzeptabel|eine Zumutung|unmöglich].",
                "[Wir sind|Ich bin] [wirklich|extrem] [verärgert|frustriert|unzufrieden].",
                "Wenn das nicht [diese Woche|bald] gelöst wird, [kündigen wir|suchen wir eine Alternative].",
            ),
        },
        "ask": {
            "any": (
                "[Können Sie|Könnten Sie] [das prüfen|das beheben|uns helfen][ so schnell wie möglich| dringend|]?",
                "Gibt es [einen Workaround|einen Zeitplan für die Lösung]?",
            )
        },
        "closing": {"any": ("[Viele Grüße|Mit freundlichen Grüßen|Beste Grüße|Danke],",)},
        "repeat": {
            "any": (
                "[Das ist|Es ist] schon das {count_de} Mal, dass [ich deswegen schreibe|wir deswegen schreiben|"
                "wir wegen desselben Problems schreiben].",
            )
        },
        "followup": {
            "positive": ("[Es funktioniert|Jetzt klappt es], [vielen Dank|danke für die Hilfe]!",),
            "neutral": ("[Anbei|Hier] [der Screenshot|die HAR-Datei|die gewünschten Infos].",),
            "negative": ("[Ich habe|Wir haben] es versucht, aber [es geht immer noch nicht|der Fehler bleibt].",),
        },
    },
}

# English/Spanish code-switching, as bilingual customers really write: keyed by category, then by polarity.
CODE_SWITCH: dict[str, dict[str, tuple[str, ...]]] = {
    "problem": {
        "billing": (
            "[we were charged|nos cobraron] [twice|dos veces] [este mes|this month], [la factura|invoice] {invoice}",
            "[the invoice|la factura] {invoice} [says|dice] {amount} [pero|but] [solo tenemos|we only have] "
            "{seats} [licencias|seats]",
        ),
        "refund": (
            "[still waiting for|sigo esperando] [the refund|el reembolso] [de|of] {amount}, [ya pasaron|it's been] "
            "[dos semanas|two weeks]",
        ),
        "login/access": (
            "[no puedo|I can't] [log in|entrar] [desde ayer|since yesterday], [the|el] SSO [da error|throws] {error}",
            "[el invite|the invitation] [no llega|never arrives] [para|for] [my colleague|mi compañero]",
        ),
        "bug": (
            "[Hola team|Hola|Hi equipo], {feature_bare} [no funciona|sigue sin funcionar|is broken] [otra vez|"
            "desde ayer|again today]",
            "[las tareas|the tasks] [disappear|desaparecen] [del board|from the board] [cada vez que|every time] "
            "[I refresh|recargo]",
        ),
        "performance": (
            "[the app|la app] [va lentísima|is super slow] [hoy|today], [tarda|takes] {secs} [segundos|seconds] "
            "[en cargar|to load]",
        ),
        "delivery": (
            "[the|la] export [falla|keeps failing] [otra vez|again], [ya es la|this is the] [tercera|third] vez "
            "[que pasa|this week]",
            "[la integración con|the] {integration} [sync|integration] [no sincroniza|isn't syncing] [nada|anything]",
        ),
        "cancellation": (
            "[we want to|queremos] [cancel|cancelar] [la suscripción|our subscription] [before|antes del] {renewal}",
        ),
        "how-to": (
            "[quick question|una pregunta rápida]: ¿[cómo|how do I] [configuro|set up] {feature_bare}?",
            "¿[se puede|can we] [export|exportar] [todo el proyecto|the whole project] [to CSV|a CSV]?",
        ),
        "feature request": (
            "[sería genial|it would be great] [si|if] {feature_bare} [had|tuviera] [dark mode|modo oscuro]",
        ),
    },
    "feeling": {
        "positive": (
            "[Gracias|Thanks] [por la ayuda|for the help], [you guys are great|sois geniales]!",
            "[Me encanta|I love] {product}, [de verdad|seriously]!",
        ),
        "neutral": (
            "[No es urgente|Not urgent] [pero|but] [let me know|avísame] [cuando puedas|when you can].",
            "[Gracias|Thanks] [de antemano|in advance].",
        ),
        "negative": (
            "[Ya probé|I already tried] [clearing the cache|otro navegador|another browser] [pero nada|but nothing].",
            "[Necesito|I need] this [fixed|arreglado] [lo antes posible|asap], [please|por favor]!",
            "[Esto es|This is] [muy frustrante|super frustrating], [la verdad|honestly].",
        ),
    },
}
